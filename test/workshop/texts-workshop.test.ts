import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import type { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { outsideDetails } from '../../workshop/check/leaks.ts';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_RETRY,
  DEFAULT_QUEUE_WEIGHTS,
  LOCK_DURATION_MS,
  RETRY_MAX_DELAY_MS,
  SHUTDOWN_TIMEOUT_MS,
  STALLED_INTERVAL_MS,
} from '../../src/jobs/defaults.ts';
import { logJobEvents } from '../../src/jobs/job-log.ts';
import { DEFAULT_RETRY_POLICY, retryDelay } from '../../src/jobs/retry.ts';
import type { Logger } from '../../src/logger.ts';
import { SMTP_MAX_CONNECTIONS } from '../../src/mail/mailer.ts';

// WORKSHOP.md tells what the app does: log lines, timings, counts. These tests hold
// those sentences to the code, so that they cannot go stale without a red test.

const WORKSHOP = readFileSync(new URL('../../WORKSHOP.md', import.meta.url), 'utf8');
/** The text with its line breaks folded, so that a phrase wrapped over two lines still matches. */
const text = WORKSHOP.replace(/\s+/g, ' ');
/** The part a learner sees before opening any `<details>` block. */
const open = outsideDetails(WORKSHOP).replace(/\s+/g, ' ');

/** chapter returns one `## N.` chapter of WORKSHOP.md, its line breaks folded. */
function chapter(n: number): string {
  const start = WORKSHOP.indexOf(`\n## ${n}. `);
  const end = WORKSHOP.indexOf('\n## ', start + 1);
  expect(start, `WORKSHOP.md should have a chapter "## ${n}."`).toBeGreaterThan(-1);
  return WORKSHOP.slice(start, end).replace(/\s+/g, ' ');
}

/** messagesFor runs logJobEvents on a stand-in worker, emits one event, and returns what it logged. */
function messagesFor(event: 'completed' | 'failed', job: object, err?: Error): string[] {
  const messages: string[] = [];
  const capture = (_fields: object, message: string) => void messages.push(message);
  const log = { info: capture, warn: capture, error: capture } as unknown as Logger;
  const worker = new EventEmitter();
  logJobEvents(worker as unknown as Worker, log);
  worker.emit(event, { id: '1', name: 'send_welcome', queueName: 'default', ...job }, err);
  return messages;
}

/** The wait before retry n, in seconds, at the lowest and the highest jitter. */
function waitRange(n: number): [number, number] {
  return [retryDelay(n, DEFAULT_RETRY_POLICY, () => 0) / 1_000, retryDelay(n, DEFAULT_RETRY_POLICY, () => 1) / 1_000];
}

describe('WORKSHOP.md: what it says the verdict shows', () => {
  it('names only evidence boxes that the suites print', () => {
    // The paragraphs that tell how to read a verdict, and the box titles they quote: `the job in Redis`.
    const paragraphs = WORKSHOP.split(/\n\s*\n/).filter((p) => /^(\*\*Reading the verdict\.\*\*|In the verdict of)/.test(p));
    const boxes = [...new Set(paragraphs.flatMap((p) => [...p.replace(/\s+/g, ' ').matchAll(/`((?:the|your) [^`]+)`/g)].map((m) => m[1]!)))];
    expect(boxes.length, 'WORKSHOP.md should quote the evidence boxes of the verdict').toBeGreaterThan(10);

    const dir = new URL('../exercises/', import.meta.url);
    const suites = [...readdirSync(dir)].filter((f) => f.endsWith('.test.ts')).map((f) => readFileSync(new URL(f, dir), 'utf8'));
    const sources = [...suites, readFileSync(new URL('../support/course/evidence.ts', import.meta.url), 'utf8')].join('\n');
    const missing = boxes.filter((box) => !sources.includes(`'${box}'`) && !sources.includes(`'${box}`));
    expect(missing, 'these boxes are named in WORKSHOP.md, but no suite explains a failure under that title').toEqual([]);
  });
});

describe('WORKSHOP.md, chapter 5: the worker log it shows', () => {
  it('quotes a failed attempt as the worker logs it', () => {
    const [message] = messagesFor('failed', { attemptsMade: 1, opts: { attempts: 2 }, delay: 500 }, new Error('connect ECONNREFUSED 127.0.0.1:1'));
    expect(message).toMatch(/^job failed \(attempt 1 of 2\), retrying at \d{4}-\d\d-\d\dT/);
    expect(chapter(5), 'chapter 5 should quote the failed attempt as logJobEvents words it').toContain(message!.split(' retrying at ')[0]);
  });

  it('quotes a dead job as the worker logs it', () => {
    const [message] = messagesFor('failed', { attemptsMade: 2, opts: { attempts: 2 }, finishedOn: Date.now() }, new Error('connect ECONNREFUSED 127.0.0.1:1'));
    expect(chapter(5)).toContain(message);
  });

  it('quotes a job that succeeds as the worker logs it', () => {
    const [message] = messagesFor('completed', { processedOn: 1_000, finishedOn: 1_007 });
    expect(chapter(5)).toContain(`\`${message}\``);
  });

  it('gives the defaults the worker starts with', () => {
    const { critical, default: normal, low } = DEFAULT_QUEUE_WEIGHTS;
    expect(chapter(5)).toContain(`**Concurrency ${DEFAULT_CONCURRENCY}**`);
    expect(chapter(5)).toContain(`**Weights ${critical}/${normal}/${low}.**`);
    expect(chapter(5)).toContain(`waits up to ${SHUTDOWN_TIMEOUT_MS / 1_000} s (\`SHUTDOWN_TIMEOUT_MS\`)`);
    // A dead worker's lock expires after LOCK_DURATION_MS; one or two stalled checks later the job runs again.
    const [soonest, latest] = [(LOCK_DURATION_MS + STALLED_INTERVAL_MS) / 1_000, (LOCK_DURATION_MS + 2 * STALLED_INTERVAL_MS) / 1_000];
    expect(chapter(5)).toContain(`runs it again within ${soonest} to ${latest} s`);
  });
});

describe('WORKSHOP.md, chapter 8: the page that re-queues', () => {
  it("quotes the log line of a job that the page's Retry ran once more", () => {
    const [message] = messagesFor('failed', { attemptsMade: 4, opts: { attempts: 3 }, finishedOn: Date.now() }, new Error('boom'));
    const quoted = message!.replace(/^job /, '').replace(/: boom$/, '');
    expect(chapter(8)).toContain(`\`${quoted}\``);
  });
});

describe('WORKSHOP.md, chapter 9: more concurrency', () => {
  it("gives the mailer's pool size", () => {
    expect(chapter(9)).toContain(`pool of up to ${SMTP_MAX_CONNECTIONS} SMTP connections (\`SMTP_MAX_CONNECTIONS\``);
  });
});

describe("WORKSHOP.md, chapter 10: the quick check's answer", () => {
  const days = (ms: number) => (ms / 86_400_000).toFixed(1);
  const all = (random: () => number) => Array.from({ length: DEFAULT_MAX_RETRY }, (_, i) => retryDelay(i + 1, DEFAULT_RETRY_POLICY, random)).reduce((a, b) => a + b, 0);

  it('counts the runs and the first waits as the code does', () => {
    expect(text).toContain(`Its attempts are ${DEFAULT_MAX_RETRY + 1}: the first run and ${DEFAULT_MAX_RETRY} retries.`);
    const [lo1, hi1] = waitRange(1);
    const [lo5, hi5] = waitRange(5);
    expect(text).toContain(`the 1st retry after ${lo1} to ${hi1} s, the 5th after ${lo5} to ${hi5} s`);
    const [lo10, hi10] = waitRange(10).map((s) => (s / 60).toFixed(1));
    expect(text).toContain(`the 10th after ${lo10} to ${hi10} minutes`);
  });

  it('says from which retry the waits reach the cap, and how long all of them take', () => {
    const cappedFrom = Array.from({ length: DEFAULT_MAX_RETRY }, (_, i) => i + 1).find((n) => retryDelay(n, DEFAULT_RETRY_POLICY, () => 1) === RETRY_MAX_DELAY_MS);
    const capHours = RETRY_MAX_DELAY_MS / 3_600_000;
    expect(text).toContain(`from the ${cappedFrom}th on ${capHours / 2} to ${capHours} hours`);
    expect(text).toContain(`through all ${DEFAULT_MAX_RETRY} retries, ${days(all(() => 0))} to ${days(all(() => 1))} days in all`);
  });

  it('keeps the answer folded away until exercise 09 is done', () => {
    expect(text).toContain('<details><summary>After exercise 09: the answer</summary>');
    expect(open).not.toContain(`${days(all(() => 0))} to ${days(all(() => 1))} days`);
    expect(open).not.toContain(`of ${DEFAULT_MAX_RETRY + 1}`);
  });
});
