import type { Job } from 'bullmq';
import fc from 'fast-check';
import { pino, type DestinationStream, type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { JobLines } from '../../src/jobs/job-lines.ts';
import { createLogger } from '../../src/logger.ts';

// JobLines formats the two lines every job gets by hand, for speed. Whatever
// the job's id, task and queue hold, each line must be the one log.info would
// have written: the same bytes but for the time, which moves on.

/** A destination that keeps the lines it is given. */
function capture(): DestinationStream & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

/** The worker's logger, as createLogger makes it, writing JSON lines into `into`. */
function workerLogger(into: DestinationStream): Logger {
  const pretty = process.env.LOG_PRETTY;
  process.env.LOG_PRETTY = 'false';
  try {
    return createLogger('worker', into);
  } finally {
    process.env.LOG_PRETTY = pretty;
  }
}

const job = (id: string | undefined, name: string, queueName: string, attemptsMade = 0) => ({ id, name, queueName, attemptsMade }) as Job;
const withoutTime = (line: string) => line.replace(/,"time":\d+,/, ',"time":0,');

/** The two lines by JobLines, and by log.info with the same fields, each without its time. */
function bothWays(log: Logger, out: { lines: string[] }, j: Job, ms: number) {
  const lines = new JobLines(log);
  lines.started(j);
  lines.done(j, ms);
  log.info({ job: j.id, task: j.name, queue: j.queueName, attempt: j.attemptsMade + 1 }, 'job started');
  log.info({ job: j.id, task: j.name, queue: j.queueName, ms }, `job done in ${ms} ms`);
  const [started, done, startedByPino, doneByPino] = out.lines.splice(0).map(withoutTime);
  return { byHand: lines.byHand, started, done, startedByPino, doneByPino };
}

afterEach(() => {
  delete process.env.ADMIN_PASSWORD;
});

describe('JobLines', () => {
  it("formats by hand with the worker's logger, and writes what log.info writes", () => {
    const out = capture();
    const line = bothWays(workerLogger(out), out, job('42', 'send_welcome', 'default', 2), 17);

    expect(line.byHand).toBe(true);
    expect(line.started).toBe(line.startedByPino);
    expect(line.done).toBe(line.doneByPino);
    expect(JSON.parse(line.started!)).toMatchObject({ level: 30, name: 'worker', job: '42', task: 'send_welcome', queue: 'default', attempt: 3, msg: 'job started' });
    expect(JSON.parse(line.done!)).toMatchObject({ job: '42', ms: 17, msg: 'job done in 17 ms' });
  });

  it('writes the same bytes as log.info for any id, task and queue', () => {
    const out = capture();
    const log = workerLogger(out);
    // Any text without lone surrogates: quotes, backslashes, control characters, emoji, more than 100 characters.
    const unit = fc.oneof(fc.constantFrom('"', '\\', '\n', '\u0001', '\u2028', 'é', '🔑'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }));
    const text = fc.string({ unit, maxLength: 130 });
    fc.assert(
      fc.property(text, text, text, fc.nat(50), fc.nat(100_000), (id, task, queue, attemptsMade, ms) => {
        const line = bothWays(log, out, job(id, task, queue, attemptsMade), ms);
        expect(line.started).toBe(line.startedByPino);
        expect(line.done).toBe(line.doneByPino);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps a child logger's bindings, and scrubs the process's secrets", () => {
    process.env.ADMIN_PASSWORD = 'hunter2-secret';
    const out = capture();
    const log = workerLogger(out).child({ shard: 'a' });
    const line = bothWays(log, out, job('id-hunter2-secret', 'cleanup_uploads', 'low'), 3);

    expect(line.byHand).toBe(true);
    expect(line.started).toBe(line.startedByPino);
    expect(JSON.parse(line.started!)).toMatchObject({ shard: 'a', job: 'id-***' });
    expect(line.done).not.toContain('hunter2');
  });

  it('writes what pino writes with a level formatter, by hand too', () => {
    const out = capture();
    const line = bothWays(pino({ formatters: { level: (label) => ({ level: label }) } }, out), out, job('8', 'send_welcome', 'low'), 4);

    expect(line.byHand).toBe(true);
    expect(line.started).toBe(line.startedByPino);
    expect(JSON.parse(line.done!)).toMatchObject({ level: 'info', msg: 'job done in 4 ms' });
  });

  it('writes nothing below the logger level, and follows a level changed later', () => {
    const out = capture();
    const log = workerLogger(out);
    const lines = new JobLines(log);
    log.level = 'warn';
    lines.started(job('1', 'send_welcome', 'default'));
    expect(out.lines).toEqual([]);
    log.level = 'info';
    lines.done(job('1', 'send_welcome', 'default'), 5);
    expect(out.lines).toHaveLength(1);
  });

  it('leaves the lines to log.info where pino would write them another way', () => {
    const setups: [string, (out: DestinationStream) => Logger][] = [
      ['a mixin', (out) => pino({ mixin: () => ({ extra: 1 }) }, out)],
      ['another message key', (out) => pino({ messageKey: 'message' }, out)],
      ['a redacted job field', (out) => pino({ redact: ['task'] }, out)],
      ['a message prefix', (out) => pino({ msgPrefix: '[w] ' }, out)],
    ];
    for (const [setup, make] of setups) {
      const out = capture();
      const line = bothWays(make(out), out, job('7', 'send_welcome', 'default'), 9);
      expect(line.byHand, setup).toBe(false);
      expect(line.started, setup).toBe(line.startedByPino);
      expect(line.done, setup).toBe(line.doneByPino);
    }
  });

  it('calls info on a logger that is no pino logger, as a test stand-in', () => {
    const calls: unknown[][] = [];
    const standIn = { info: (...args: unknown[]) => calls.push(args), isLevelEnabled: () => true } as unknown as Logger;
    const lines = new JobLines(standIn);
    lines.started(job('5', 'send_welcome', 'critical'));
    lines.done(job('5', 'send_welcome', 'critical'), 12);

    expect(lines.byHand).toBe(false);
    expect(calls).toEqual([
      [{ job: '5', task: 'send_welcome', queue: 'critical', attempt: 1 }, 'job started'],
      [{ job: '5', task: 'send_welcome', queue: 'critical', ms: 12 }, 'job done in 12 ms'],
    ]);
  });
});
