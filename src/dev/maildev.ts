import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailDev } from 'maildev';

/** A mail catcher that this process started: where it listens, and how to stop it. */
export interface RunningCatcher {
  smtpPort: number;
  webPort: number;
  stop(): Promise<void>;
}

/**
 * startMailDev runs MailDev in this process, the stand-in for MailHog where
 * no MailHog can run: SMTP on smtpPort, the inbox web UI and API on webPort,
 * both on 127.0.0.1. Port 0 (the default) lets the system pick one; the ports
 * it got are returned. Like MailHog it keeps mail only while it runs.
 */
export async function startMailDev({ smtpPort = 0, webPort = 0 } = {}): Promise<RunningCatcher> {
  // Its own folder for the .eml files, else they pile up in /tmp/maildev.
  const mailDirectory = await mkdtemp(join(tmpdir(), 'maildev-'));
  const maildev = new MailDev({ smtp: smtpPort, ip: '127.0.0.1', web: webPort, webIp: '127.0.0.1', mailDirectory, silent: true });

  // `silent` quiets MailDev's logger, but its API server still prints
  // "MailDev API running at ..." with console.info.
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

  const apiPort = servers.api?.getPort();
  if (!apiPort) throw new Error('MailDev started without its web/API server');
  return {
    smtpPort: servers.smtp.getPort(),
    webPort: apiPort,
    async stop() {
      await maildev.stop();
      await rm(mailDirectory, { recursive: true, force: true });
    },
  };
}
