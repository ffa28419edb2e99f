import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCron, Scheduler } from '../../src/jobs/cron.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { services } from '../support/services/services.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

// `npm run jobs` as a real process, against the test Redis. Two prefixes: one
// with no worker, so jobs stay where they are put, and one whose worker fails
// the receipts it is told to, to make dead jobs.
const bed = jobsTestbed('jobs-cli');
const deadBed = jobsTestbed('jobs-cli-dead');
const failing = new Set<number>();
// A database path with no file: the overview's outbox line must not read a real data/app.db.
const databasePath = join(mkdtempSync(join(tmpdir(), 'jobs-cli-')), 'app.db');
afterAll(async () => {
  await stopAll();
  await bed.cleanup();
  await deadBed.cleanup();
});

/** jobs runs `npm run jobs -- <args>` on a prefix and returns its exit code, its output and how long it took. */
async function jobs(args: string[], opts: { prefix?: string; redisUrl?: string } = {}) {
  const startedAt = Date.now();
  const env = { REDIS_URL: opts.redisUrl ?? services().redisUrl, QUEUE_PREFIX: opts.prefix ?? bed.prefix, DATABASE_PATH: databasePath };
  const child = spawnScript('src/cmd/jobs.ts', env, `jobs ${args.join(' ')}`, args);
  const { code } = await child.exited;
  return { code, output: child.output(), tookMs: Date.now() - startedAt };
}

// Nothing here touches Redis state, so these run at once.
describe.concurrent('npm run jobs: help and mistakes', () => {
  it('--help prints the usage and exits 0', async () => {
    const { code, output } = await jobs(['--help']);
    expect(code).toBe(0);
    expect(output).toMatch(/^Usage: npm run jobs -- <command>/);
    expect(output).toContain('requeue <queue> <id>');
    expect(output).toMatch(/^ {2}outbox {22}outbox rows pending and dead/m);
    expect(output).toMatch(/^ {2}outbox requeue <id> {9}make a dead outbox row pending again/m);
  });

  it('an unknown command prints the usage and exits 1', async () => {
    const { code, output } = await jobs(['frobnicate']);
    expect(code).toBe(1);
    expect(output).toContain('Usage: npm run jobs');
    expect(output).toContain('error: unknown command "frobnicate"');
  });

  it('fails within seconds, with one line and no password, when Redis cannot be reached', async () => {
    const port = await freePort();
    const { code, output, tookMs } = await jobs(['stats'], { redisUrl: `redis://:s3cret-pw@127.0.0.1:${port}` });
    expect(code).toBe(1);
    // It gives up after 3 s; node and tsx start in about 1 s, far more on a loaded machine.
      expect(tookMs).toBeLessThan(25_000);
    expect(output.trim()).toBe(`error: cannot reach Redis at redis://:***@127.0.0.1:${port} (prefix "${bed.prefix}"): connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('does not hang on a server that accepts the connection and never answers', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const { code, output, tookMs } = await jobs(['stats'], { redisUrl: `redis://127.0.0.1:${port}` });
      expect(code).toBe(1);
      // It gives up after 3 s; node and tsx start in about 1 s, far more on a loaded machine.
      expect(tookMs).toBeLessThan(25_000);
      expect(output.trim()).toMatch(/^error: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(prefix "[^"]+"\): no connection within 3000 ms$/);
    } finally {
      silent.close();
    }
  });
});

describe('npm run jobs stats', () => {
  it('prints each queue with its counts by state, and no password', async () => {
    await bed.client.enqueue('nightly_digest', {}, { queue: 'low' });
    await bed.client.enqueue('nightly_digest', {}, { queue: 'low' });
    await bed.client.enqueueIn('nightly_digest', {}, 60_000, { queue: 'critical' });

    const withPassword = services().redisUrl.replace('redis://', 'redis://:s3cret-pw@');
    for (const { code, output } of await Promise.all([jobs([], { redisUrl: withPassword }), jobs(['stats'], { redisUrl: withPassword })])) {
      expect(code).toBe(0);
      expect(output).not.toContain('s3cret-pw');
      expect(output).toContain(`queues at redis://:***@`);
      expect(output).toMatch(/^queue\s+active\s+pending\s+scheduled\s+dead\s+completed$/m);
      expect(output).toMatch(/^critical\s+0\s+0\s+1\s+0\s+0$/m);
      expect(output).toMatch(/^default\s+0\s+0\s+0\s+0\s+0$/m);
      expect(output).toMatch(/^low\s+0\s+2\s+0\s+0\s+0$/m);
      expect(output).toMatch(new RegExp(`^outbox: no database at ${databasePath} \\(DATABASE_PATH\\): the API creates it when it first starts$`, 'm'));
    }
  });
});

describe('npm run jobs enqueue', () => {
  it('enqueues through the client and prints the job id and queue', async () => {
    const { code, output } = await jobs(['enqueue', 'send_welcome', '{"to": "ada@example.test", "name": "Ada"}', '--queue', 'critical', '--max-retry', '3']);
    expect(code).toBe(0);
    const [, id] = /^enqueued send_welcome as job (\S+) on queue critical$/m.exec(output) ?? [];
    const job = await bed.client.queue('critical').getJob(id!);
    expect(job).toMatchObject({ name: 'send_welcome', data: { to: 'ada@example.test', name: 'Ada' }, opts: { attempts: 4 } });
    expect(await job!.getState()).toBe('waiting');
  });

  it('--in schedules it for later', async () => {
    const before = Date.now();
    const { code, output } = await jobs(['enqueue', 'resize_image', '{"upload": "sample.png", "width": 200}', '--in', '10m']);
    expect(code).toBe(0);
    const [, id] = /^enqueued resize_image as job (\S+) on queue default, due at .+ UTC \(in 10m\)$/m.exec(output) ?? [];
    const job = await bed.client.queue('default').getJob(id!);
    expect(await job!.getState()).toBe('delayed');
    expect(job!.timestamp + job!.delay).toBeGreaterThanOrEqual(before + 600_000);
  });

  it('refuses bad input with a one-line reason, and enqueues nothing', async () => {
    const countBefore = await bed.client.queue('default').count();
    const cases: [string[], string][] = [
      [['enqueue', 'send_welcome', '{"to": "not-an-email", "name": "Ada"}'], 'error: bad payload for send_welcome: to: Invalid email address'],
      [['enqueue', 'send_welcome', '{"to": '], 'error: the payload is not valid JSON: '],
      [['enqueue', 'launch_rockets', '{}'], 'error: unknown task "launch_rockets": use one of send_welcome, '],
      [['enqueue', 'nightly_digest', '--queue', 'urgent'], 'error: unknown queue "urgent": use critical, default, low'],
      [['enqueue', 'nightly_digest', '--in', '3 weeks'], 'error: --in: "3 weeks" is not a duration'],
      [['enqueue', 'nightly_digest', '--max-retry', '-1'], "error: Option '--max-retry' argument is ambiguous. Did you forget"],
    ];
    const results = await Promise.all(cases.map(([args]) => jobs(args)));
    results.forEach(({ code, output }, i) => {
      expect(code, cases[i]![0].join(' ')).toBe(1);
      expect(output.trim().split('\n')).toHaveLength(1);
      expect(output).toContain(cases[i]![1]);
    });
    expect(await bed.client.queue('default').count()).toBe(countBefore);
  });
});

describe('npm run jobs show', () => {
  it('prints a pending job with its payload as pretty JSON', async () => {
    const { id } = await bed.client.enqueue('send_receipt', { order_id: 7 }, { queue: 'low', maxRetry: 2 });
    const { code, output } = await jobs(['show', 'low', id]);
    expect(code).toBe(0);
    expect(output).toContain(`job ${id} in queue low`);
    expect(output).toMatch(/^state\s+pending$/m);
    expect(output).toMatch(/^task\s+send_receipt$/m);
    expect(output).toMatch(/^attempts\s+0 made of 3 allowed$/m);
    expect(output).toContain('payload\n  {\n    "order_id": 7\n  }');
  });

  it('exits 1 when there is no such job', async () => {
    const { code, output } = await jobs(['show', 'default', 'no-such-job']);
    expect({ code, output: output.trim() }).toEqual({ code: 1, output: 'error: no job no-such-job in queue default' });
  });
});

describe('npm run jobs show: when a scheduled job is due', () => {
  // Its worker fails every receipt, and retries 30 to 60 s later.
  const retryBed = jobsTestbed('jobs-cli-retry');
  afterAll(() => retryBed.cleanup());

  /** dueLine reads the "due" line of `show`: the time it prints (to the second), and the relative part. */
  function dueLine(output: string): { at: number; relative: string } {
    const [, at, relative] = /^due\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC \((in .+)\)$/m.exec(output) ?? [];
    expect(at, `show should print a "due" line; it printed:\n${output}`).toBeDefined();
    return { at: Date.parse(`${at!.replace(' ', 'T')}Z`), relative: relative! };
  }

  it('prints when a job enqueued for later is due', async () => {
    const before = Date.now();
    const { id } = await bed.client.enqueueIn('nightly_digest', {}, 600_000);
    const { code, output } = await jobs(['show', 'default', id]);
    expect(code).toBe(0);
    expect(output).toMatch(/^state\s+scheduled$/m);
    const due = dueLine(output);
    expect(due.at).toBeGreaterThanOrEqual(Math.floor((before + 600_000) / 1_000) * 1_000);
    expect(due.at).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(due.relative).toMatch(/^in (9m \d+s|10m)$/);
  });

  it('prints when a job waiting out a retry runs next', async () => {
    const mux = new ServeMux();
    mux.handle('send_receipt', async ({ order_id }) => {
      throw new Error(`receipt ${order_id} failed: SMTP is busy`);
    });
    await retryBed.startServer(mux, { retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    const before = Date.now();
    const { id } = await retryBed.client.enqueue('send_receipt', { order_id: 43 });
    const queue = retryBed.client.queue('default');
    await waitUntil('the receipt to wait for its retry', async () => (await queue.getJobState(id)) === 'delayed' && (await queue.getJob(id))?.attemptsMade === 1);
    const failedBy = Date.now();

    const { code, output } = await jobs(['show', 'default', id], { prefix: retryBed.prefix });
    expect(code).toBe(0);
    expect(output).toMatch(/^state\s+scheduled$/m);
    expect(output).toMatch(/^attempts\s+1 made of 26 allowed$/m);
    expect(output).toMatch(/^last error\s+receipt 43 failed: SMTP is busy$/m);
    // The first retry waits half of to all of the 60 s base, from the failure.
    const due = dueLine(output);
    expect(due.at).toBeGreaterThanOrEqual(Math.floor((before + 30_000) / 1_000) * 1_000);
    expect(due.at).toBeLessThanOrEqual(failedBy + 60_000);
    expect(due.relative).toMatch(/^in \d+s$/);
  });
});

describe('npm run jobs schedules', () => {
  it('says when there are none, then lists the cron table with each next run', async () => {
    const none = await jobs(['schedules']);
    expect(none.code).toBe(0);
    expect(none.output).toMatch(/^no cron schedules/);

    await registerCron(new Scheduler(bed.client));
    const { code, output } = await jobs(['schedules']);
    expect(code).toBe(0);
    expect(output).toMatch(/^task\s+pattern\s+queue\s+next run$/m);
    expect(output).toMatch(/^nightly_digest\s+0 2 \* \* \*\s+default\s+\d{4}-\d\d-\d\d 02:00:00 UTC \(in .+\)$/m);
    expect(output).toMatch(/^cleanup_uploads\s+0 \* \* \* \*\s+default\s+\d{4}-\d\d-\d\d \d\d:00:00 UTC \(in .+\)$/m);
  });
});

describe('dead jobs: npm run jobs dead, show and requeue', () => {
  const deadIds: { default?: string; low?: string } = {};
  beforeAll(async () => {
    const mux = new ServeMux();
    mux.handle('send_receipt', async ({ order_id }) => {
      if (failing.has(order_id)) throw new Error(`receipt ${order_id} failed: SMTP said no`);
    });
    await deadBed.startServer(mux);
    failing.add(41).add(42);
    deadIds.default = (await deadBed.client.enqueue('send_receipt', { order_id: 41 }, { maxRetry: 0 })).id;
    await waitUntil('job 41 to be dead', async () => (await deadBed.client.queue('default').getJobState(deadIds.default!)) === 'failed');
    deadIds.low = (await deadBed.client.enqueue('send_receipt', { order_id: 42 }, { maxRetry: 1, queue: 'low' })).id;
    await waitUntil('job 42 to be dead', async () => (await deadBed.client.queue('low').getJobState(deadIds.low!)) === 'failed');
  });

  it('dead lists the dead jobs of every queue, newest first', async () => {
    const { code, output } = await jobs(['dead'], { prefix: deadBed.prefix });
    expect(code).toBe(0);
    const lines = output.trim().split('\n');
    expect(lines[0]).toMatch(/^id\s+queue\s+task\s+attempts\s+failed at\s+error$/);
    expect(lines[1]).toMatch(new RegExp(`^${deadIds.low}\\s+low\\s+send_receipt\\s+2\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\s+receipt 42 failed: SMTP said no$`));
    expect(lines[2]).toMatch(new RegExp(`^${deadIds.default}\\s+default\\s+send_receipt\\s+1\\s+.+UTC\\s+receipt 41 failed: SMTP said no$`));
    expect(lines).toHaveLength(3);
  });

  it('dead <queue> lists one queue, and says so when it has none', async () => {
    const [low, critical] = await Promise.all([jobs(['dead', 'low'], { prefix: deadBed.prefix }), jobs(['dead', 'critical'], { prefix: deadBed.prefix })]);
    expect(low.code).toBe(0);
    expect(low.output).toContain('receipt 42 failed');
    expect(low.output).not.toContain('receipt 41 failed');
    expect({ code: critical.code, output: critical.output.trim() }).toEqual({ code: 0, output: 'no dead jobs in critical' });
  });

  it('show prints a dead job with its error and the top of its stack', async () => {
    const { code, output } = await jobs(['show', 'low', deadIds.low!], { prefix: deadBed.prefix });
    expect(code).toBe(0);
    expect(output).toMatch(/^state\s+dead$/m);
    expect(output).toMatch(/^attempts\s+2 made of 2 allowed$/m);
    expect(output).toMatch(/^failed at\s+\d{4}-.+ UTC$/m);
    expect(output).toMatch(/^error\s+receipt 42 failed: SMTP said no$/m);
    expect(output).toContain('payload\n  {\n    "order_id": 42\n  }');
    expect(output).toMatch(/^stack.*\n {2}Error: receipt 42 failed: SMTP said no\n {6}at /m);
  });

  it('requeue sends a dead job back, and it runs again', async () => {
    failing.delete(41); // the outage is over
    const { code, output } = await jobs(['requeue', 'default', deadIds.default!], { prefix: deadBed.prefix });
    expect(code).toBe(0);
    expect(output.trim()).toBe(`re-queued job ${deadIds.default} in default: it runs again with a fresh set of attempts`);
    await waitUntil('the re-queued job to complete', async () => (await deadBed.client.queue('default').getJobState(deadIds.default!)) === 'completed');
  });

  it('requeue exits 1 with a clear message when there is no dead job with that id', async () => {
    const { id } = await bed.client.enqueueIn('nightly_digest', {}, 60_000);
    const [missing, notDead] = await Promise.all([
      jobs(['requeue', 'default', 'no-such-job'], { prefix: deadBed.prefix }),
      jobs(['requeue', 'default', id]),
    ]);
    expect({ code: missing.code, output: missing.output.trim() }).toEqual({ code: 1, output: 'error: no dead job no-such-job in queue default' });
    expect({ code: notDead.code, output: notDead.output.trim() }).toEqual({
      code: 1,
      output: `error: job ${id} in default is scheduled, not dead: only dead jobs can be re-queued`,
    });
  });
});
