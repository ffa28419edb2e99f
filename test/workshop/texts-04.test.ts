// Exercise 04's README walks the learner through a drain: three nightly
// digests wait, a worker with one slot starts the first, Ctrl-C, then
// `npm run jobs -- stats`. This test takes the same steps with the finished
// worker, src/cmd/worker.ts, and holds the README's job ids, quoted log lines
// and stats table to what the app does.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, describe, expect, it } from 'vitest';
import { formatStats } from '../../src/cmd/jobs-format.ts';
import { JobsClient } from '../../src/jobs/client.ts';
import { redisConnection } from '../../src/jobs/connection.ts';
import { QUEUES } from '../../src/jobs/defaults.ts';
import { Inspector } from '../../src/jobs/inspector.ts';
import { spawnScript, stopAll, type ChildScript } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { waitUntil } from '../support/wait.ts';

const README = readFileSync(new URL('../../exercises/04-worker-process/README.md', import.meta.url), 'utf8');

/** textBlock is the README's ```text block that holds `marker`, as lines. */
function textBlock(marker: string): string[] {
  const block = [...README.matchAll(/^```text\n([\s\S]*?)^```/gm)].map((m) => m[1]!).find((text) => text.includes(marker));
  if (!block) throw new Error(`the README has no \`\`\`text block with "${marker}"`);
  return block.split('\n').filter(Boolean);
}

/** quoted reads a line as pino-pretty prints it: `[10:01:20.194] INFO (worker): msg {"json":"fields"}`. */
function quoted(line: string): { msg: string; fields: Record<string, unknown> } {
  const [, rest] = /^\[[\d:.]+\] INFO \(worker\): (.*)$/.exec(line) ?? [];
  if (rest === undefined) throw new Error(`not a log line: ${line}`);
  const brace = rest.indexOf(' {');
  return brace < 0 ? { msg: rest, fields: {} } : { msg: rest.slice(0, brace), fields: JSON.parse(rest.slice(brace + 1)) as Record<string, unknown> };
}

/** A mail server that accepts every email at once, or holds the next one until release(). */
function mailServer() {
  let hold: (() => void) | undefined;
  let held: (() => void) | undefined;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, done) {
      stream.resume();
      stream.on('end', () => {
        if (!hold) return done();
        held = () => done();
        hold();
        hold = undefined;
      });
    },
  });
  return {
    server,
    holdNext: () => new Promise<void>((resolve) => (hold = resolve)),
    release: () => held?.(),
  };
}

const mail = mailServer();
const prefix = uniquePrefix('texts04');
let client: JobsClient | undefined;
afterAll(async () => {
  await stopAll();
  mail.release();
  await new Promise<void>((resolve) => mail.server.close(() => resolve()));
  if (!client) return;
  await Promise.all(QUEUES.map((queue) => client!.queue(queue).obliterate({ force: true })));
  await client.close();
});

describe("exercise 04's README, See it drain", () => {
  it('gives the digests\' job ids, the worker\'s lines and the `stats` table that the finished worker gives', async () => {
    const jobsClient = (client = new JobsClient(redisConnection({ redisUrl: services().redisUrl }), { prefix }));
    await new Promise<void>((resolve) => mail.server.listen(0, '127.0.0.1', resolve));
    const smtpUrl = `smtp://127.0.0.1:${(mail.server.server.address() as { port: number }).port}`;
    const dir = mkdtempSync(join(tmpdir(), 'texts04-'));
    const worker = (env: Record<string, string>): ChildScript =>
      spawnScript('src/cmd/worker.ts', {
        REDIS_URL: services().redisUrl,
        SMTP_URL: smtpUrl,
        QUEUE_PREFIX: prefix,
        DATABASE_PATH: join(dir, 'shop.db'),
        UPLOADS_DIR: join(dir, 'uploads'),
        WORKER_CONCURRENCY: '',
        SHUTDOWN_TIMEOUT_MS: '',
        RUN_SCHEDULER: '',
        ...env,
      }, 'worker');

    // Run it yourself: a welcome email on default, a cleanup on critical and on low.
    const first = worker({});
    await first.waitForOutput(/"msg":"worker started"/, 30_000);
    const jobs = [
      await jobsClient.enqueue('send_welcome', { to: 'ada@example.test', name: 'Ada' }),
      await jobsClient.enqueue('cleanup_uploads', {}, { queue: 'critical' }),
      await jobsClient.enqueue('cleanup_uploads', {}, { queue: 'low' }),
    ];
    await waitUntil('the three jobs to complete', async () => {
      const states = await Promise.all(jobs.map((job) => jobsClient.queue(job.queue).getJobState(job.id)));
      return states.every((state) => state === 'completed');
    });
    first.kill('SIGINT');
    expect(await first.exited).toEqual({ code: 0, signal: null });

    // See it drain: three digests while no worker runs, then a worker with one slot and a slow mail server.
    const digests = [];
    for (let n = 0; n < 3; n++) digests.push((await jobsClient.enqueue('nightly_digest', {})).id);
    expect(README, 'the README gives the digests\' job ids').toContain(`as jobs ${digests[0]}, ${digests[1]} and ${digests[2]}`);

    const arrived = mail.holdNext();
    const second = worker({ WORKER_CONCURRENCY: '1' });
    await arrived;
    second.kill('SIGINT');
    await second.waitForOutput(/"msg":"worker stopping/, 10_000);
    mail.release();
    expect(await second.exited).toEqual({ code: 0, signal: null });

    // Each quoted line, with its fields; a number in a message may differ ("job done in 3118 ms").
    // In the order the README gives, by the time the worker logged each: on exit, pino may write
    // a line still in flight after the last one (see the report on issue 15), so the output's order
    // is not always the log's.
    const entries = second
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const numbersAway = (text: string) => text.replace(/\d+/g, 'N');
    let after = 0;
    for (const line of textBlock('SIGINT: shutting down')) {
      const { msg, fields } = quoted(line);
      const { ms: _ms, ...exact } = fields;
      const entry = entries.find(
        (e) => e.level === 30 && numbersAway(String(e.msg)) === numbersAway(msg) && Object.entries(exact).every(([key, value]) => e[key] === value),
      );
      expect(entry, `the worker should log: ${line}\nIt logged:\n${second.output()}`).toBeDefined();
      expect(entry!.time as number, `the worker should log this after the lines above it: ${line}\nIt logged:\n${second.output()}`).toBeGreaterThanOrEqual(after);
      after = entry!.time as number;
    }

    const stats = formatStats(await new Inspector(jobsClient).counts()).split('\n');
    expect(textBlock('queue     active').map((line) => line.trimEnd()), 'the README\'s table should be what `npm run jobs -- stats` prints then').toEqual(stats.map((line) => line.trimEnd()));
  });
});
