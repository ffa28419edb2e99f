import { loadConfig, withoutPassword } from '../../src/config.ts';
import { hostAndPort, isLocalHost, isReachable, waitUntilAnswers } from '../../src/dev/reachable.ts';
import { producerConnection, waitForRedis } from '../../src/jobs/connection.ts';
import { detectMailCatcher } from '../../src/dev/inbox.ts';
import { catcherName } from '../../src/dev/mail-catcher-apis.ts';
import { binaryOnPath } from '../../src/dev/on-path.ts';
import type { Services } from '../shared/services.ts';

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
 * machine, it starts its own on those same ports, so the processes you run by
 * hand in other terminals find them too: a local redis-server, or where there
 * is none, Redis in Docker (docker-compose.yml, as npm start runs it); and
 * MailHog where MAILHOG_BIN or PATH names one, else MailDev in this process.
 */
export async function ensureServices(env: NodeJS.ProcessEnv = process.env): Promise<CourseServices> {
  const config = loadConfig(env);
  const started: Stoppable[] = [];
  const description: string[] = [];
  const summary: string[] = [];
  const stop = async () => {
    for (const service of started.reverse()) await service.stop().catch(() => {});
  };

  try {
    const redis = await pingRedis(config.redisUrl);
    const shownRedis = withoutPassword(config.redisUrl);
    if (redis === 'ok') {
      description.push(`Redis        ${shownRedis} (already running)`);
      summary.push(`Redis ${shownRedis}`);
    } else if (redis === 'refused' && isLocalHost(config.redisUrl)) {
      const how = await startRedis(config.redisUrl, started);
      description.push(`Redis        ${shownRedis} (started ${how} for this session)`);
      summary.push(`Redis ${shownRedis} (started here, stops when you quit)`);
    } else {
      throw new PreflightError(
        redis === 'refused'
          ? `Nothing answers at REDIS_URL=${shownRedis}, and it is not on this machine, so it cannot be started here.`
          : `Redis at ${shownRedis} did not accept us: ${redis}. Check REDIS_URL (and its password).`,
      );
    }

    let mailBackend = await detectMailCatcher(config.mailUiUrl);
    const smtpUp = await isReachable(config.smtpUrl);
    const inboxHint = '`npm run inbox` lists it in a terminal';
    if (mailBackend && smtpUp) {
      description.push(`Mail inbox   ${config.mailUiUrl} (${catcherName(mailBackend)}, already running; ${inboxHint})`);
      summary.push(`inbox ${config.mailUiUrl} (${catcherName(mailBackend)})`);
    } else if (!smtpUp && !(await isReachable(config.mailUiUrl)) && isLocalHost(config.smtpUrl) && isLocalHost(config.mailUiUrl)) {
      const mail = await startMailCatcher(config.smtpUrl, config.mailUiUrl, env);
      started.push(mail);
      mailBackend = mail.backend;
      description.push(`Mail inbox   ${config.mailUiUrl} (${mail.reason}; started for this session; ${inboxHint})`);
      summary.push(`inbox ${config.mailUiUrl} (${catcherName(mail.backend)}, started here, stops when you quit)`);
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
      summary: summary.join(' · '),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * startRedis starts Redis on REDIS_URL's port: the local redis-server where
 * there is one (it starts fastest), else the Redis of docker-compose.yml, as
 * npm start does. It says how it started it.
 */
async function startRedis(redisUrl: string, started: Stoppable[]): Promise<string> {
  const { port } = hostAndPort(redisUrl);
  const password = new URL(redisUrl).password;
  if (binaryOnPath('redis-server')) {
    const { startLocalRedis } = await import('../../src/dev/local-redis.ts');
    try {
      started.push(await startLocalRedis(port, undefined, { password: password ? decodeURIComponent(password) : undefined }));
      return 'with redis-server';
    } catch (err) {
      throw new PreflightError(`${(err as Error).message}\nOr start Redis another way (\`npm start\` does) and run this again.`);
    }
  }
  const { dockerAnswers, findCompose } = await import('../../src/dev/docker.ts');
  const compose = (await dockerAnswers()) ? await findCompose() : undefined;
  if (!compose) {
    throw new PreflightError(
      [
        `Nothing answers at REDIS_URL=${withoutPassword(redisUrl)}, and this machine has no \`redis-server\` and no Docker engine to start one with.`,
        'Install one of them, then run this again:',
        '  Debian/Ubuntu: sudo apt-get install redis-server',
        '  macOS:         brew install redis',
        '  or Docker:     https://docs.docker.com/get-docker/ (start Docker Desktop first)',
      ].join('\n'),
    );
  }
  const env = { REDIS_PORT: String(port), REDIS_PASSWORD: password ? decodeURIComponent(password) : '' };
  try {
    await compose.up(['redis'], env);
    started.push({ stop: () => compose.stop(['redis']) });
    await waitUntilAnswers(redisUrl);
  } catch (err) {
    throw new PreflightError(
      `There is no \`redis-server\` here, and ${compose.name} could not start Redis: ${(err as Error).message}\n` +
        'Start Redis another way (`npm start` does) and run this again.',
    );
  }
  return `with ${compose.name}`;
}

/**
 * startMailCatcher starts a catcher on the ports of SMTP_URL and MAIL_UI_URL:
 * MailHog where MAILHOG_BIN or PATH names one, else MailDev in this process.
 */
async function startMailCatcher(smtpUrl: string, mailUiUrl: string, env: NodeJS.ProcessEnv) {
  const { startMailCatcher } = await import('../../src/dev/mail-catcher.ts');
  try {
    return await startMailCatcher({ smtpPort: hostAndPort(smtpUrl).port, webPort: hostAndPort(mailUiUrl).port, env });
  } catch (err) {
    throw new PreflightError(`${(err as Error).message}\nOr start a mail catcher another way (\`npm start\` does) and run this again.`);
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
