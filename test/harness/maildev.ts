import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailDev } from 'maildev';

/** A MailDev running in this process. */
export interface RunningMailDev {
  smtpPort: number;
  webPort: number;
  stop(): Promise<void>;
}

/**
 * Starts MailDev in-process on 127.0.0.1, silently, on the given ports
 * (0, the default, lets the OS pick; the ports it got are returned).
 */
export async function startMailDev(ports: { smtp?: number; web?: number } = {}): Promise<RunningMailDev> {
  // Its own folder for the .eml files, else they pile up in /tmp/maildev across runs.
  const mailDirectory = await mkdtemp(join(tmpdir(), 'maildev-test-'));
  const maildev = new MailDev({
    smtp: ports.smtp ?? 0,
    ip: '127.0.0.1',
    web: ports.web ?? 0,
    webIp: '127.0.0.1',
    mailDirectory,
    silent: true,
  });

  // `silent` quiets MailDev's logger, but its API server still prints
  // "MailDev API running at ..." with console.info on listen.
  const info = console.info;
  console.info = () => {};
  let servers;
  try {
    servers = await maildev.start();
  } catch (err) {
    await rm(mailDirectory, { recursive: true, force: true });
    throw err;
  } finally {
    console.info = info;
  }

  const webPort = servers.api?.getPort();
  if (!webPort) throw new Error('MailDev started without its web/API server');
  return {
    smtpPort: servers.smtp.getPort(),
    webPort,
    async stop() {
      await maildev.stop();
      await rm(mailDirectory, { recursive: true, force: true });
    },
  };
}
