/**
 * npm start: the whole app in one terminal.
 *
 * 1. Makes sure Redis and an SMTP mail catcher answer at REDIS_URL and SMTP_URL,
 *    and starts whatever is missing on the ports those URLs name: with Docker
 *    Compose (docker-compose.yml) when an engine runs and can start it, else a
 *    local redis-server and MailDev.
 * 2. Runs the API, the worker and the scheduler as three processes, as they
 *    run in production, and labels each log line with its process. Without an
 *    ADMIN_PASSWORD it makes one up for the session, so the jobs admin page
 *    opens on the first try, and prints it with the page's address.
 * 3. On Ctrl-C stops the three, then everything that step 1 started. Killed
 *    outright (SIGKILL), it leaves nothing running either: the three and the
 *    binaries it started notice that it is gone and stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { useColour } from '../colour.ts';
import { loadConfig, withoutPassword } from '../config.ts';
import { ADMIN_JOBS_PATH } from '../api/routes/admin.ts';
import { SHUTDOWN_TIMEOUT_MS } from '../jobs/defaults.ts';
import { dockerAnswers, findCompose, type Compose } from '../dev/docker.ts';
import { makeUpAdminPassword } from '../dev/admin-password.ts';
import { startLocalRedis } from '../dev/local-redis.ts';
import { detectMailCatcher, findMailDevApi } from '../dev/inbox.ts';
import { MAILDEV, MAILHOG } from '../dev/mail-catcher-apis.ts';
import { startMailCatcher } from '../dev/mail-catcher.ts';
import { hostAndPort, isLocalHost, isReachable, waitUntilAnswers, waitUntilReachable } from '../dev/reachable.ts';

type Name = 'dev' | 'api' | 'worker' | 'scheduler';
type Service = { stop(): Promise<void> };

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APPS = { api: 'src/cmd/api.ts', worker: 'src/cmd/worker.ts', scheduler: 'src/cmd/scheduler.ts' } as const;
// Loaded into each app before its own code, so it stops when this process is gone.
const STOP_WITH_PARENT = './src/cmd/stop-with-parent-preload.ts';
const COLOURS: Record<Name, number> = { dev: 90, api: 36, worker: 35, scheduler: 33 };
// Decided once, for the labels and the apps' logs alike: the apps write to our pipes.
const colour = useColour(process.stdout.isTTY);

const config = loadConfig();
const portOf = (url: string) => hostAndPort(url).port;
const redisLogin = loginOf(config.redisUrl);
// docker-compose.yml publishes its ports from these, so Docker uses the URLs' ports too.
const composeEnv = {
  REDIS_PORT: String(portOf(config.redisUrl)),
  SMTP_PORT: String(portOf(config.smtpUrl)),
  MAIL_UI_PORT: String(portOf(config.mailUiUrl)),
  // The Redis that npm start starts asks for REDIS_URL's password, if it has one.
  REDIS_PASSWORD: redisLogin.password ?? '',
};
// A password made up for this session when none is set, printed below with the page.
// Not in production, where the API refuses to start without a chosen one.
const generatedAdminPassword =
  config.admin.password || config.env === 'production' ? undefined : makeUpAdminPassword();
// MAIL_CATCHER=maildev runs docker-compose.yml's MailDev service instead of MailHog.
const mailService = process.env.MAIL_CATCHER || 'mailhog';
const started: Service[] = []; // what step 1 started, stopped on the way out
const running: { child: ChildProcess; closed: Promise<unknown> }[] = [];
let compose: Promise<Compose | string> | undefined; // a Compose, or why there is none
let stopping = false;

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));
// When our output pipe closes first (`npm start | tee log` and Ctrl-C), carry
// on: what we started must still be stopped.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

// 1. Redis and mail
try {
  if (mailService !== 'mailhog' && mailService !== 'maildev') {
    throw new Error(`MAIL_CATCHER must be "mailhog" or "maildev", not "${mailService}"`);
  }
  await ensure('Redis', [config.redisUrl], 'redis', () =>
    startLocalRedis(portOf(config.redisUrl), process.env.REDIS_DATA_DIR || `${ROOT}data/redis`, { password: redisLogin.password }),
  );
  await ensure('Mail', [config.smtpUrl, config.mailUiUrl], mailService, () =>
    startMailCatcher({ smtpPort: portOf(config.smtpUrl), webPort: portOf(config.mailUiUrl) }),
  );
} catch (err) {
  say(err instanceof Error ? err.message : String(err));
  await shutdown(1);
}

// 2. The app's three processes (unless a Ctrl-C came during step 1)
if (!stopping) {
  for (const [name, file] of Object.entries(APPS) as [Name, string][]) run(name, file);
  Promise.all([waitUntilReachable(`http://localhost:${config.port}`, 60_000), inboxApi(config.mailUiUrl)]).then(
    ([, inbox]) => say([
      '',
      `  App         http://localhost:${config.port}/healthz`,
      `  Jobs admin  http://localhost:${config.port}${ADMIN_JOBS_PATH}`,
      generatedAdminPassword
        ? `              log in as ${config.admin.user} / ${generatedAdminPassword} (made up for this session; set ADMIN_PASSWORD to choose one)`
        : `              log in as ${config.admin.user} with your ADMIN_PASSWORD`,
      `  Mail inbox  ${config.mailUiUrl}${inbox}`,
      `  Try it      curl -X POST localhost:${config.port}/api/dev/send-birthday/1`,
      '  Stop        Ctrl-C',
      '',
    ].join('\n')),
    () => say(`The API does not answer on port ${config.port}; see its log above.`),
  );
}

/**
 * Uses the service at url if it answers; otherwise starts it with Docker
 * Compose if an engine runs, and locally if there is none or it cannot
 * start the service (say, its image is missing and cannot be pulled).
 */
async function ensure(name: string, urls: string[], composeService: string, startLocally: () => Promise<Service & { reason?: string }>) {
  const [url] = urls as [string, ...string[]];
  const shown = withoutPassword(url);
  if (await isReachable(url)) return say(`${name}: using the one already running at ${shown}`);
  if (!isLocalHost(url)) throw new Error(`${name}: nothing answers at ${shown}, and npm start only starts services on this machine.`);
  if (url === config.redisUrl && redisLogin.user) {
    throw new Error(
      `Redis: nothing answers at ${shown}. npm start can start a Redis with a password, but not with the user "${redisLogin.user}": ` +
        'start your own Redis with that user, or leave the user out of REDIS_URL (redis://:password@host:port).',
    );
  }
  const found = await (compose ??= findDockerCompose());
  if (typeof found === 'string') {
    say(`${name}: ${found}, starting it locally`);
  } else {
    say(`${name}: starting the "${composeService}" service with ${found.name}`);
    let up = false;
    try {
      await found.up([composeService], composeEnv);
      up = true;
      for (const each of urls) await waitUntilAnswers(each);
      started.push({ stop: () => found.stop([composeService]) });
      return say(`${name}: running at ${shown}`);
    } catch (err) {
      // Up but never reachable: stop it, so the local one can have its port.
      if (up) await found.stop([composeService]).catch(() => {});
      say(
        `${name}: Docker could not start it (${err instanceof Error ? err.message : err}), starting it locally instead. ` +
          `To use containers, pull the images once while online: ${found.name} pull redis ${mailService}`,
      );
    }
  }
  const service = await startLocally();
  started.push(service);
  say(`${name}: running at ${shown}${service.reason ? ` (${service.reason})` : ''}`);
}

/** Which catcher serves the inbox, and where its API lists the mail, for the banner. */
async function inboxApi(mailUiUrl: string): Promise<string> {
  const backend = await detectMailCatcher(mailUiUrl);
  if (backend === 'mailhog') return ` (MailHog; its API: ${MAILHOG.messagesPath})`;
  if (backend === 'maildev') return ` (MailDev; its API: ${(await findMailDevApi(mailUiUrl)) ?? ''}${MAILDEV.emailsPath})`;
  return '';
}

/** The machine's Docker Compose, or why npm start cannot use Docker. */
async function findDockerCompose(): Promise<Compose | string> {
  if (!(await dockerAnswers())) return 'no Docker engine answers';
  return (await findCompose()) ?? 'Docker answers, but neither "docker compose" nor "docker-compose" is installed';
}

/** Runs one of the app's processes with its output labelled. */
function run(name: Name, file: string) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_PRETTY: 'true', // piped output would otherwise be JSON
    ...(generatedAdminPassword && { ADMIN_PASSWORD: generatedAdminPassword }),
    // The apps write to our pipes: they colour when we do. Said in both variables,
    // for every reader to agree (colorette reads NO_COLOR's mere presence as "off").
    ...(colour ? { FORCE_COLOR: '1' } : { FORCE_COLOR: '0', NO_COLOR: '1' }),
  };
  if (colour) delete env.NO_COLOR;
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', STOP_WITH_PARENT, file], {
    cwd: ROOT,
    env,
    // The IPC channel closes when this process dies, even SIGKILLed: the
    // child then stops itself (src/cmd/stop-with-parent.ts).
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group, so Ctrl-C reaches only this process, which then
    // stops the apps before the services they use.
    detached: true,
  });
  createInterface({ input: child.stdout! }).on('line', (line) => console.log(label(name), line));
  createInterface({ input: child.stderr! }).on('line', (line) => console.error(label(name), line));
  child.once('exit', (code, signal) => {
    if (stopping) return;
    say(`${name} exited on its own (${signal ?? `exit code ${code}`}), stopping everything`);
    void shutdown(1);
  });
  running.push({ child, closed: once(child, 'close') });
}

/** Stops the apps (each gets SIGTERM, then SIGKILL if it hangs), then the services, then exits. */
async function shutdown(code: number): Promise<void> {
  if (stopping) return; // npm and the terminal may both deliver the same Ctrl-C
  stopping = true;
  say('stopping…');
  await Promise.all(running.map(async ({ child, closed }) => {
    child.kill('SIGTERM');
    // The worker waits up to SHUTDOWN_TIMEOUT_MS for its running jobs.
    const force = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS + 5_000);
    await closed;
    clearTimeout(force);
  }));
  for (const service of started.reverse()) {
    await service.stop().catch((err: Error) => say(`could not stop a service: ${err.message}`));
  }
  process.exit(code);
}

function say(message: string) {
  for (const line of message.split('\n')) console.log(label('dev'), line);
}

function label(name: Name): string {
  const text = `${name.padEnd(9)}│`;
  return colour ? `\x1b[${COLOURS[name]}m${text}\x1b[0m` : text;
}

/** loginOf reads the user (other than Redis's "default") and the password out of a URL. */
function loginOf(url: string): { user?: string; password?: string } {
  const { username, password } = new URL(url);
  const user = decodeURIComponent(username);
  return { user: user && user !== 'default' ? user : undefined, password: password ? decodeURIComponent(password) : undefined };
}
