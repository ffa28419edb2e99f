import { loadConfig, withoutPassword } from '../../src/config.ts';
import { hostAndPort, isLocalHost, isReachable } from '../../src/dev/reachable.ts';
import { producerConnection, waitForRedis } from '../../src/jobs/connection.ts';
import { detectMailCatcher } from '../../src/dev/inbox.ts';
import type { Services } from '../../test/harness/services.ts';

/** CourseServices are the Redis and mail catcher the checks use, and how to let go of them. */
export interface CourseServices {
  services: Services;
  /** One line per service: where it is and whether this session started it. */
  description: string[];
  /** The same in one short line, for the foot of the watch screen. */
  summary: string;
  /** Stops what this session started; leaves alone what was already running. */
  stop(): Promise<void>;
}

/** PreflightError: a service is missing and we cannot start it. The message says how to fix it. */
export class PreflightError extends Error {
  override name = 'PreflightError';
}

type Stoppable = { stop(): Promise<void> };

/** PING_TIMEOUT_MS: how long Redis has to accept us before the preflight says why not. */
const PING_TIMEOUT_MS = 1_000;

/**
 * ensureServices finds Redis at REDIS_URL and a mail catcher at SMTP_URL and
 * MAIL_UI_URL, the ones `npm start` runs. When nothing answers on this
 * machine, it starts its own on those same ports (a local redis-server and
 * MailDev), so the processes you run by hand in other terminals find them too.
 */
export async function ensureServices(env: NodeJS.ProcessEnv = process.env): Promise<CourseServices> {
  const config = loadConfig(env);
  const started: Stoppable[] = [];
  const description: string[] = [];
  const stop = async () => {
    for (const service of started.reverse()) await service.stop().catch(() => {});
  };

  try {
    const redis = await pingRedis(config.redisUrl);
    const shownRedis = withoutPassword(config.redisUrl);
    if (redis === 'ok') {
      description.push(`Redis        ${shownRedis} (already running)`);
    } else if (redis === 'refused' && isLocalHost(config.redisUrl)) {
      const { startLocalRedis } = await import('../../src/dev/local-redis.ts');
      try {
        started.push(await startLocalRedis(hostAndPort(config.redisUrl).port));
      } catch (err) {
        throw new PreflightError(`${(err as Error).message}\nOr start Redis another way (\`npm start\` does) and run this again.`);
      }
      description.push(`Redis        ${shownRedis} (started for this session)`);
    } else {
      throw new PreflightError(
        redis === 'refused'
          ? `Nothing answers at REDIS_URL=${shownRedis}, and it is not on this machine, so it cannot be started here.`
          : `Redis at ${shownRedis} did not accept us: ${redis}. Check REDIS_URL (and its password).`,
      );
    }

    let mailBackend = await detectMailCatcher(config.mailUiUrl);
    const smtpUp = await isReachable(config.smtpUrl);
    if (mailBackend && smtpUp) {
      description.push(`Mail inbox   ${config.mailUiUrl} (${mailBackend === 'mailhog' ? 'MailHog' : 'MailDev'}, already running)`);
    } else if (!smtpUp && !(await isReachable(config.mailUiUrl)) && isLocalHost(config.smtpUrl) && isLocalHost(config.mailUiUrl)) {
      const { startMailCatcher } = await import('../../src/dev/mail-catcher.ts');
      started.push(await startMailCatcher({ smtpPort: hostAndPort(config.smtpUrl).port, webPort: hostAndPort(config.mailUiUrl).port }));
      mailBackend = 'maildev';
      description.push(`Mail inbox   ${config.mailUiUrl} (MailDev, started for this session)`);
    } else {
      throw new PreflightError(
        [
          `The mail catcher is only half there: SMTP at ${withoutPassword(config.smtpUrl)} ${smtpUp ? 'answers' : 'does not answer'},`,
          `and the inbox at ${config.mailUiUrl} ${mailBackend ? 'answers' : 'is not MailHog or MailDev'}.`,
          'Stop whatever holds those ports, or point SMTP_URL and MAIL_UI_URL at one MailHog or MailDev.',
        ].join(' '),
      );
    }

    return {
      services: {
        redisUrl: config.redisUrl,
        smtpUrl: config.smtpUrl,
        mailUiUrl: config.mailUiUrl,
        mailBackend,
        backend: 'local',
      },
      description,
      summary: [description[0]!, description[1]!].map((line) => line.replace(/\s{2,}/g, ' ').replace('started for this session', 'started here, stopped on quit')).join(' · '),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** pingRedis returns 'ok', 'refused' when nothing listens, or the reason Redis gave (a wrong password, say). */
async function pingRedis(url: string): Promise<'ok' | 'refused' | string> {
  if (!(await isReachable(url))) return 'refused';
  const redis = producerConnection({ redisUrl: url });
  try {
    await waitForRedis(redis, PING_TIMEOUT_MS);
    return 'ok';
  } catch (err) {
    // The first line only, and never the URL: it may hold a password.
    return (err as Error).message.split('\n')[0]!;
  } finally {
    redis.disconnect();
  }
}
