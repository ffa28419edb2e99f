import { startMailCatcher } from '../../../src/dev/mail-catcher.ts';
import { redisServerBinary, startRedisServer } from './redis-server.ts';
import type { StartedServices } from './started.ts';

/**
 * Starts a local `redis-server` and a mail catcher, each on a free port: the
 * MailHog binary where MAILHOG_BIN or PATH names one, else MailDev in-process.
 */
export async function startLocalServices(): Promise<StartedServices> {
  if (!redisServerBinary()) {
    throw new Error(
      'No Docker engine and no `redis-server` on PATH. Install Redis (e.g. `apt-get install redis-server`, `brew install redis`) or start Docker.',
    );
  }
  const redis = await startRedisServer();
  let mail;
  try {
    mail = await startMailCatcher();
  } catch (err) {
    await redis.stop();
    throw err;
  }
  return {
    services: {
      redisUrl: redis.url,
      smtpUrl: `smtp://127.0.0.1:${mail.smtpPort}`,
      mailUiUrl: `http://127.0.0.1:${mail.webPort}`,
      mailBackend: mail.backend,
      backend: 'local',
    },
    description: `${redis.description} on 127.0.0.1:${redis.port}, ${mail.reason}, smtp :${mail.smtpPort} web :${mail.webPort}`,
    async stop() {
      await Promise.allSettled([mail.stop(), redis.stop()]);
    },
  };
}
