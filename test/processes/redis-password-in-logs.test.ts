import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { spawnScript, stopAll, type ChildScript } from '../support/child-script.ts';
import { redisServerBinary } from '../support/services/redis-server.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { sleep, waitUntil } from '../support/wait.ts';

// The black-box attack: the real API, worker and scheduler against a Redis that
// wants a password, once with a wrong one and once with the right one. Neither
// password may show up in anything they print.

// Characters that a URL percent-encodes (@ / % :), that JSON escapes (" \), and unicode.
const RIGHT_PASSWORD = 'r1ght@Pw/%:é';
const WRONG_PASSWORD = 'wr0ng"Pw\\@/%é';
const ADMIN_PASSWORD = 'adm1n-Pw"\\é';
const SECRETS = [RIGHT_PASSWORD, WRONG_PASSWORD, ADMIN_PASSWORD];

/** How long the processes run with the wrong password: several reconnects, well under a 30 s reminder. */
const WINDOW_MS = 5_000;
const REFUSED = /Redis refused the login \(WRONGPASS\): check the password in REDIS_URL/;

let redis: PasswordRedis;
beforeAll(async () => {
  redis = await startRedisWithPassword(RIGHT_PASSWORD);
});
afterAll(async () => {
  await stopAll();
  await redis?.stop();
});

describe('with a wrong password in REDIS_URL', () => {
  const printed: Record<string, string> = {};
  let birthday: { status: number; body: string };
  let masked: string;

  beforeAll(async () => {
    const { env, baseUrl } = await processEnv(WRONG_PASSWORD);
    masked = `redis://:***@127.0.0.1:${redis.port}`;
    const procs: Record<string, ChildScript> = {
      api: spawnScript('src/cmd/api.ts', env, 'api'),
      worker: spawnScript('src/cmd/worker.ts', env, 'worker'),
      scheduler: spawnScript('src/cmd/scheduler.ts', env, 'scheduler'),
      // The same worker as a terminal shows it: lines go through pino-pretty in a worker thread.
      'pretty worker': spawnScript('src/cmd/worker.ts', { ...env, LOG_PRETTY: 'true' }, 'pretty worker'),
    };
    await procs.api!.waitForOutput(/API listening/, 20_000);
    const res = await fetch(`${baseUrl}/api/dev/send-birthday/1`, { method: 'POST' });
    birthday = { status: res.status, body: await res.text() };

    // Once every process is up (it says so, or the time is up), watch for a few reconnects.
    await Promise.allSettled(Object.values(procs).map((proc) => proc.waitForOutput(REFUSED, 15_000)));
    await sleep(WINDOW_MS);
    for (const [name, proc] of Object.entries(procs)) printed[name] = proc.output();
    await stopAll();
  });

  it('never prints a password', () => {
    for (const [name, output] of Object.entries(printed)) expectNoSecrets(name, output);
  });

  it('has each process say once that Redis refused the login, with the address but not the password', () => {
    for (const [name, output] of Object.entries(printed)) {
      const refusals = lines(output).filter((line) => REFUSED.test(line));
      expect(refusals.length, `${name} said it ${refusals.length} times; it printed:\n${head(output)}`).toBe(1);
      expect(refusals[0]).toContain(masked);
    }
  });

  it('keeps the worker to a handful of lines while every connection keeps failing', () => {
    for (const name of ['worker', 'pretty worker']) {
      const printedLines = lines(printed[name]!);
      expect(printedLines.length, `${name} printed ${printedLines.length} lines in ${WINDOW_MS} ms, first:\n${head(printed[name]!)}`).toBeLessThanOrEqual(3);
    }
  });

  it('answers 503 to an enqueue', () => {
    expect(birthday.status, birthday.body).toBe(503);
  });
});

describe('with the right password in REDIS_URL', () => {
  const printed: Record<string, string> = {};

  beforeAll(async () => {
    const { env, baseUrl } = await processEnv(RIGHT_PASSWORD);
    const procs: Record<string, ChildScript> = {
      api: spawnScript('src/cmd/api.ts', env, 'api'),
      worker: spawnScript('src/cmd/worker.ts', env, 'worker'),
      scheduler: spawnScript('src/cmd/scheduler.ts', env, 'scheduler'),
    };
    await Promise.all([
      procs.api!.waitForOutput(/API listening/, 20_000),
      procs.worker!.waitForOutput(/worker started/, 20_000),
      procs.scheduler!.waitForOutput(/cron schedules registered/, 20_000),
    ]);
    const res = await fetch(`${baseUrl}/api/dev/send-birthday/1`, { method: 'POST' });
    expect(res.status).toBe(202);
    await procs.worker!.waitForOutput(/"task":"send_birthday_email".*job done/, 15_000);

    // A clean stop logs too.
    for (const proc of Object.values(procs)) proc.kill('SIGTERM');
    await Promise.all(Object.values(procs).map((proc) => proc.exited));
    for (const [name, proc] of Object.entries(procs)) printed[name] = proc.output();
  });

  it('never prints a password', () => {
    for (const [name, output] of Object.entries(printed)) expectNoSecrets(name, output);
  });

  it('does not complain about the login', () => {
    for (const output of Object.values(printed)) expect(output).not.toMatch(/refused the login/);
  });
});

/** The environment of the three processes, as in end-to-end.test.ts, with REDIS_URL holding `password`. */
async function processEnv(password: string) {
  const port = await freePort();
  const env = {
    PORT: String(port),
    REDIS_URL: `redis://:${encodeURIComponent(password)}@127.0.0.1:${redis.port}`,
    SMTP_URL: services().smtpUrl,
    QUEUE_PREFIX: uniquePrefix('secrets'),
    DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'jobs-secrets-')), 'app.db'),
    UPLOADS_DIR: mkdtempSync(join(tmpdir(), 'jobs-secrets-uploads-')),
    ADMIN_PASSWORD,
  };
  return { env, baseUrl: `http://127.0.0.1:${port}` };
}

function lines(output: string): string[] {
  return output.split('\n').filter((line) => line.trim() !== '');
}

/** The first lines of an output, cut short, for a failure message. */
function head(output: string, count = 3): string {
  return lines(output).slice(0, count).map((line) => (line.length > 300 ? `${line.slice(0, 300)}...` : line)).join('\n');
}

function expectNoSecrets(name: string, output: string): void {
  const leaks = linesWithSecrets(output);
  expect(leaks.length, `${name}: ${leaks.length} of ${lines(output).length} lines hold a password, first:\n${head(leaks.join('\n'), 1)}`).toBe(0);
}

/** The lines that hold a secret in any form a log could give it: as is, JSON-escaped, or percent-encoded. */
function linesWithSecrets(output: string): string[] {
  const forms = SECRETS.flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  return lines(output).filter((line) => forms.some((form) => line.includes(form)));
}

interface PasswordRedis {
  port: number;
  stop(): Promise<void>;
}

/**
 * A Redis of its own that wants `password` (requirepass), on a free port: the
 * local redis-server when there is one, else a container. Resolves once the
 * password lets a client in.
 */
async function startRedisWithPassword(password: string): Promise<PasswordRedis> {
  const args = ['--bind', '127.0.0.1', '--port', '6379', '--requirepass', password, '--save', '', '--appendonly', 'no'];
  let server: PasswordRedis;
  if (redisServerBinary()) {
    const port = await freePort();
    args[3] = String(port);
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    const gone = new Promise((resolve) => child.once('exit', resolve));
    server = {
      port,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await gone;
      },
    };
  } else {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('redis:7-alpine')
      .withCommand(['redis-server', ...args.slice(2)])
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
      .start();
    server = { port: container.getMappedPort(6379), stop: async () => void (await container.stop()) };
  }
  await waitUntil('Redis to let the right password in', async () => {
    const client = new Redis({ host: '127.0.0.1', port: server.port, password, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  });
  return server;
}
