import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailDev } from 'maildev';

/**
 * startMailCatcher runs MailDev in this process, the stand-in for MailHog when
 * there is no Docker: SMTP on smtpPort, the inbox web UI on webPort, both on
 * 127.0.0.1. Like MailHog it keeps mail only while it runs.
 */
export async function startMailCatcher({ smtpPort, webPort }: { smtpPort: number; webPort: number }): Promise<{ stop(): Promise<void> }> {
  // Its own folder for the .eml files, else they pile up in /tmp/maildev. One
  // name per port, emptied first, so a run that was killed leaves no pile either.
  const mailDirectory = join(tmpdir(), `maildev-${smtpPort}`);
  await rm(mailDirectory, { recursive: true, force: true });
  await mkdir(mailDirectory, { recursive: true });
  const maildev = new MailDev({
    smtp: smtpPort,
    ip: '127.0.0.1',
    web: webPort,
    webIp: '127.0.0.1',
    mailDirectory,
    silent: true,
  });

  // `silent` quiets MailDev's logger, but its API server still prints
  // "MailDev API running at ..." with console.info.
  const info = console.info;
  console.info = () => {};
  try {
    await maildev.start();
  } catch (err) {
    await rm(mailDirectory, { recursive: true, force: true });
    throw err;
  } finally {
    console.info = info;
  }

  return {
    async stop() {
      await maildev.stop();
      await rm(mailDirectory, { recursive: true, force: true });
    },
  };
}
