// The learner's processes that `npm run exercise` starts ahead of time
// (workshop/warm/): each becomes exactly the process a check asked for, with
// its arguments and nothing but its environment, and behaves as a process
// started by its command would: output, Ctrl-C, exit code.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarmProcesses } from '../../workshop/warm/host.ts';
import { warmProcess } from '../support/course/warm-process.ts';
import { stopAll } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';

let host: WarmProcesses;
beforeAll(async () => {
  // A variable the host has, which no process it gives out may keep.
  process.env.QUEUE_PREFIX = 'from-the-host';
  host = await WarmProcesses.start();
  host.want(2);
});
afterAll(async () => {
  await stopAll();
  await host.close();
  delete process.env.QUEUE_PREFIX;
});

/** ask has the host run `workshop/run.ts <args>` with exactly `env`, plus PATH and HOME. */
function ask(args: string[], env: Record<string, string>) {
  const base = { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info' };
  return warmProcess(host.socketPath, { args, env: { ...base, ...env } }, `warm ${args.join(' ')}`);
}

describe('a process started ahead of time', () => {
  it('runs with the arguments and only the environment it was given, and exits with its code', async () => {
    const prefix = uniquePrefix('warm');
    const stats = ask(['jobs', '7', 'stats'], { REDIS_URL: services().redisUrl, QUEUE_PREFIX: prefix });
    expect(await stats.exited).toEqual({ code: 0, signal: null });
    expect(stats.output()).toContain('▶ jobs with the files of exercises/07-dead-jobs/');
    expect(stats.output()).toContain(`(prefix "${prefix}")`);
    expect(stats.output()).toMatch(/default\s+0\s+0\s+0\s+0\s+0/);

    // Without QUEUE_PREFIX, run.ts's own default applies, not the host's.
    const bare = ask(['jobs', '7', 'stats'], { REDIS_URL: services().redisUrl });
    expect((await bare.exited).code).toBe(0);
    expect(bare.output()).toContain('(prefix "workshop")');

    const wrong = ask(['jobs', '7', 'no-such-command'], { REDIS_URL: services().redisUrl });
    expect((await wrong.exited).code, wrong.output()).not.toBe(0);
  });

  it('leads a process group of its own: a Ctrl-C reaches it, and the worker drains and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warm-worker-'));
    const worker = ask(['worker', '4', '--solution'], {
      REDIS_URL: services().redisUrl,
      SMTP_URL: services().smtpUrl,
      QUEUE_PREFIX: uniquePrefix('warm-worker'),
      DATABASE_PATH: join(dir, 'shop.db'),
      UPLOADS_DIR: join(dir, 'uploads'),
    });
    // Signals sent before the host has answered wait for the process; this one waits for its start.
    await worker.waitForOutput(/"msg":"worker started"/, 30_000);
    expect(worker.pid).toBeGreaterThan(0);
    worker.kill('SIGINT');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.output()).toContain('"msg":"worker stopped"');
  });

  it('is stopped, with every process the host started, when the host closes', async () => {
    const other = await WarmProcesses.start();
    other.want(1);
    const env = { PATH: process.env.PATH!, REDIS_URL: services().redisUrl, QUEUE_PREFIX: uniquePrefix('warm-close'), DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'warm-close-')), 'shop.db'), UPLOADS_DIR: join(tmpdir(), 'warm-close-uploads') };
    const worker = warmProcess(other.socketPath, { args: ['worker', '4', '--solution'], env }, 'worker of a closing host');
    await worker.waitForOutput(/worker started/, 30_000);
    await other.close();
    expect((await worker.exited).signal).toBe('SIGKILL');
  });
});
