import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { freePort } from '../../src/dev/free-port.ts';
import { hostAndPort, isReachable } from '../../src/dev/reachable.ts';
import { spawnScript, stopAll, type ChildScript } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { BANNER_END, interrupt } from '../support/npm-start.ts';
import { descendantsOf, isRunning } from '../support/process-table.ts';
import { waitUntil } from '../support/wait.ts';

// npm start (src/cmd/dev.ts) as a developer runs it, against the test run's Redis
// and mail catcher: dev.ts finds them answering and starts none of its own.
const PATH = '/admin/system/jobs';
const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });
const started: ChildScript[] = [];
/** ESC, which starts every ANSI colour code. */
const ESC = '\x1b';
/** How soon what npm start started must be gone once it is SIGKILLed. */
const GONE_WITHIN_MS = 3_000;

async function startDev(adminPassword: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const dev = spawnScript('src/cmd/dev.ts', {
    PORT: String(port),
    REDIS_URL: services().redisUrl,
    SMTP_URL: services().smtpUrl,
    MAIL_UI_URL: services().mailUiUrl,
    QUEUE_PREFIX: uniquePrefix('dev-start'),
    DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'jobs-dev-start-')), 'app.db'),
    UPLOADS_DIR: mkdtempSync(join(tmpdir(), 'jobs-dev-start-uploads-')),
    NODE_ENV: 'development',
    ADMIN_PASSWORD: adminPassword,
    // Piped, as here, npm start writes no colour unless these ask for it: unset
    // them, in case the shell that runs the tests sets them.
    FORCE_COLOR: '',
    NO_COLOR: '',
    ...env,
  }, 'npm start');
  started.push(dev);
  // Under the 60 s hook timeout, so that a timeout fails with the output in the error.
  await dev.waitForOutput(BANNER_END, 50_000);
  // The banner's lines without the `dev      │ ` label, to compare whole lines.
  const banner = dev.output().split('\n').flatMap((line) => line.match(/^dev +│ (.*)$/)?.[1] ?? []);
  return { dev, port, banner, page: `http://127.0.0.1:${port}${PATH}` };
}

/**
 * npm start where nothing answers at REDIS_URL, SMTP_URL and MAIL_UI_URL (free
 * ports), so that it starts a Redis and a mail catcher of its own. No Docker,
 * even where an engine runs: this is the local path.
 */
async function startDevOnItsOwn(adminPassword: string) {
  const [redis, smtp, mailUi] = [await freePort(), await freePort(), await freePort()];
  const run = await startDev(adminPassword, {
    REDIS_URL: `redis://127.0.0.1:${redis}`,
    REDIS_DATA_DIR: mkdtempSync(join(tmpdir(), 'jobs-dev-redis-')),
    SMTP_URL: `smtp://127.0.0.1:${smtp}`,
    MAIL_UI_URL: `http://127.0.0.1:${mailUi}`,
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
  });
  return { ...run, ports: { api: run.port, redis, smtp, mailUi } };
}

/** The password that the banner says npm start made up, if it says so. */
function madeUpPassword(banner: string[]): string | undefined {
  return banner
    .map((line) => line.match(/^ {14}log in as admin \/ (\S+) \(made up for this session; set ADMIN_PASSWORD to choose one\)$/))
    .find(Boolean)?.[1];
}

function killQuietly(pid: number) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}

afterAll(async () => {
  // dev.ts runs the API, worker and scheduler in process groups of their own, so
  // SIGKILLing it (stopAll) would leave them running: Ctrl-C first, to stop them too.
  await Promise.all(started.map(interrupt));
  await stopAll();
}, 60_000);

describe('npm start with no ADMIN_PASSWORD', () => {
  let run: Awaited<ReturnType<typeof startDev>>;
  // A second run, on services of its own: SIGKILLed below.
  let onItsOwn: Awaited<ReturnType<typeof startDevOnItsOwn>>;
  beforeAll(async () => {
    [run, onItsOwn] = await Promise.all([startDev(''), startDevOnItsOwn('')]);
  });

  it('makes one up, prints it with the admin page, and the API takes it', async () => {
    const { port, banner, page } = run;
    expect(banner).toContain(`  Jobs admin  http://localhost:${port}${PATH}`);
    const password = madeUpPassword(banner);
    expect(password, banner.join('\n')).toBeDefined();
    expect(password!.length).toBeGreaterThanOrEqual(16);

    expect((await fetch(page)).status).toBe(401);
    expect((await fetch(page, { headers: basic('wrong') })).status).toBe(401);
    expect((await fetch(page, { headers: basic(password!) })).status).toBe(200);
  });

  it('makes up a new one each run', () => {
    const [first, second] = [madeUpPassword(run.banner), madeUpPassword(onItsOwn.banner)];
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
  });

  it('writes no colour to a pipe', () => {
    expect(run.dev.output()).toMatch(/^api +│ .*API listening/m); // the apps' lines are there
    expect(run.dev.output()).not.toContain(ESC);
  });

  it('stops on Ctrl-C: exits 0, and the API port no longer answers', async () => {
    expect(await interrupt(run.dev)).toBe(0);
    expect(run.dev.output()).toMatch(/^dev +│ stopping…$/m);
    await expect(fetch(run.page)).rejects.toThrow();
  });

  it('SIGKILLed, leaves nothing running: its processes stop, and their ports close', async () => {
    const { dev, ports } = onItsOwn;
    const urls = [
      `http://127.0.0.1:${ports.api}`,
      `redis://127.0.0.1:${ports.redis}`,
      `smtp://127.0.0.1:${ports.smtp}`,
      `http://127.0.0.1:${ports.mailUi}`,
    ];
    for (const url of urls) expect(await isReachable(url), url).toBe(true);
    const processes = descendantsOf(dev.pid);
    const commands = processes.map((p) => p.command).join('\n');
    for (const name of ['src/cmd/api.ts', 'src/cmd/worker.ts', 'src/cmd/scheduler.ts', 'redis-server']) expect(commands).toContain(name);

    dev.kill('SIGKILL');
    await waitUntil(
      'every process that npm start started to be gone',
      () => processes.every((p) => !isRunning(p.pid)),
      GONE_WITHIN_MS,
    ).catch((err: Error) => {
      const left = processes.filter((p) => isRunning(p.pid));
      for (const p of left) killQuietly(p.pid); // not to hold ports after this test
      throw new Error(`${err.message}; still running:\n${left.map((p) => `${p.pid} ${p.command}`).join('\n')}`);
    });
    for (const url of urls) expect(await isReachable(url), url).toBe(false);
  });
});

describe('npm start with ADMIN_PASSWORD set', () => {
  const password = 'given-Pw-123';
  let run: Awaited<ReturnType<typeof startDev>>;
  beforeAll(async () => {
    run = await startDev(password);
  });

  it('lets that password in and never prints it', async () => {
    expect(run.banner).toContain('              log in as admin with your ADMIN_PASSWORD');
    expect((await fetch(run.page, { headers: basic(password) })).status).toBe(200);
    expect((await fetch(run.page)).status).toBe(401);

    // Stopped first, so that the whole output, the shutdown's included, is checked.
    expect(await interrupt(run.dev)).toBe(0);
    expect(run.dev.output()).not.toContain(password);
  });
});

describe('npm start with FORCE_COLOR or NO_COLOR', () => {
  let forced: Awaited<ReturnType<typeof startDev>>;
  let noColour: Awaited<ReturnType<typeof startDev>>;
  beforeAll(async () => {
    [forced, noColour] = await Promise.all([startDev('colour-pw-1', { FORCE_COLOR: '1' }), startDev('colour-pw-2', { NO_COLOR: '1' })]);
    await Promise.all([interrupt(forced.dev), interrupt(noColour.dev)]);
  });

  it('with FORCE_COLOR=1, colours its labels and the apps\' log lines, even on a pipe', () => {
    const output = forced.dev.output();
    expect(output).toMatch(/^\x1b\[\d+mdev +│\x1b\[0m /m);
    const listening = /^\x1b\[\d+mapi +│\x1b\[0m (.*API listening.*)$/m.exec(output);
    expect(listening, output).not.toBeNull();
    expect(listening![1]).toContain(ESC); // pino-pretty's part of the line
  });

  it('with NO_COLOR=1, writes no colour', () => {
    expect(noColour.dev.output()).toMatch(/^api +│ .*API listening/m);
    expect(noColour.dev.output()).not.toContain(ESC);
  });
});

describe('npm start with a password in REDIS_URL and no Redis running', () => {
  const redisPassword = 'r3dis "pw"/x';
  let run: Awaited<ReturnType<typeof startDev>>;
  let redisUrl: string;
  beforeAll(async () => {
    redisUrl = `redis://:${encodeURIComponent(redisPassword)}@127.0.0.1:${await freePort()}`;
    run = await startDev('admin-pw-123', {
      REDIS_URL: redisUrl,
      REDIS_DATA_DIR: mkdtempSync(join(tmpdir(), 'jobs-dev-redis-')),
      // No Docker for this one, even where an engine runs: this is the local redis-server's path.
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    });
  });

  it('starts its Redis with that password, and the app uses it', async () => {
    const { port } = hostAndPort(redisUrl);
    expect(await pingWithoutLogin(port)).toMatch(/^-NOAUTH/);

    const client = new Redis(redisUrl);
    expect(await client.ping()).toBe('PONG');
    // The password reaches redis-server on stdin, not on its command line, where `ps` would show it.
    const pid = /process_id:(\d+)/.exec(await client.info('server'))![1];
    const commandLine = execFileSync('ps', ['-o', 'command=', '-p', pid!]).toString();
    expect(commandLine).toContain('redis-server');
    expect(commandLine).not.toContain('r3dis');
    client.disconnect();

    const res = await fetch(`http://127.0.0.1:${run.port}/api/dev/send-birthday/1`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(await interrupt(run.dev)).toBe(0);
    expect(run.dev.output()).not.toContain('r3dis');
  });
});

describe('npm start with a Redis user in REDIS_URL and no Redis running', () => {
  it('refuses to start one, and says why', async () => {
    const dev = spawnScript('src/cmd/dev.ts', {
      REDIS_URL: `redis://shop:pw-9@127.0.0.1:${await freePort()}`,
      SMTP_URL: services().smtpUrl,
      PORT: String(await freePort()),
    }, 'npm start');
    expect((await dev.exited).code).toBe(1);
    expect(dev.output()).toContain('npm start can start a Redis with a password, but not with the user "shop"');
    expect(dev.output()).not.toContain('pw-9');
  });
});

/** pingWithoutLogin sends PING over a bare socket and returns Redis's first answer line. */
function pingWithoutLogin(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().split('\r\n')[0]!);
    });
    socket.once('error', reject);
  });
}
