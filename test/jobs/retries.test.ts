import { afterAll, describe, expect, it } from 'vitest';
import { Inspector } from '../../src/jobs/inspector.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { retryDelay } from '../../src/jobs/retry.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const bed = jobsTestbed('retries');
afterAll(() => bed.cleanup());
const inspector = new Inspector(bed.client);

/** Each test uses its own task + queue pairing through the order_id, and reads attempts from here. */
const attemptsByOrder = new Map<number, number[]>();
const failUntilAttempt = new Map<number, number>();

const mux = new ServeMux();
mux.handle('send_receipt', async ({ order_id }, ctx) => {
  const times = attemptsByOrder.get(order_id) ?? [];
  times.push(Date.now());
  attemptsByOrder.set(order_id, times);
  if (ctx.attempt < (failUntilAttempt.get(order_id) ?? 0)) throw new Error(`receipt ${order_id}: SMTP hiccup on attempt ${ctx.attempt}`);
});
// Base delay 500 ms, and the jitter pinned to its top: retry 1 waits 500 ms, retry 2 waits 1 s. The
// gap between them is wide enough for a retry that starts a few hundred ms late on a loaded machine.
await bed.startServer(mux, { retry: { baseDelayMs: 500, maxDelayMs: 10_000 }, random: () => 1 });

async function finalState(id: string) {
  return waitUntil(`job ${id} to finish`, async () => {
    const state = await bed.client.queue('default').getJobState(id);
    return state === 'completed' || state === 'failed' ? state : undefined;
  });
}

describe('retries', () => {
  it('retries a job that fails twice, then it succeeds, with a growing backoff', async () => {
    failUntilAttempt.set(1, 3);
    const { id } = await bed.client.enqueue('send_receipt', { order_id: 1 }, { maxRetry: 5 });

    expect(await finalState(id)).toBe('completed');
    const times = attemptsByOrder.get(1)!;
    expect(times).toHaveLength(3);
    const [firstWait, secondWait] = [times[1]! - times[0]!, times[2]! - times[1]!];
    expect(firstWait).toBeGreaterThanOrEqual(500);
    expect(secondWait).toBeGreaterThanOrEqual(1_000);
    expect(secondWait).toBeGreaterThan(firstWait + 100);
  });

  it('keeps a job dead after its last attempt, with payload, error, attempts and stack', async () => {
    failUntilAttempt.set(2, Infinity);
    const { id } = await bed.client.enqueue('send_receipt', { order_id: 2 }, { maxRetry: 2 });

    expect(await finalState(id)).toBe('failed');
    expect(attemptsByOrder.get(2)).toHaveLength(3);
    const dead = await inspector.deadJob('default', id);
    expect(dead).toMatchObject({
      task: 'send_receipt',
      payload: { order_id: 2 },
      error: 'receipt 2: SMTP hiccup on attempt 3',
      attemptsMade: 3,
    });
    expect(dead!.stacktrace.join('\n')).toMatch(/SMTP hiccup/);
    expect((await inspector.deadJobs('default')).map((job) => job.id)).toContain(id);
  });

  it('re-queues a dead job, which then runs again', async () => {
    failUntilAttempt.set(3, Infinity);
    const { id } = await bed.client.enqueue('send_receipt', { order_id: 3 }, { maxRetry: 0 });
    expect(await finalState(id)).toBe('failed');

    failUntilAttempt.set(3, 0); // the outage is over
    expect(await inspector.requeue('default', id)).toBe(true);
    expect(await finalState(id)).toBe('completed');
    expect(attemptsByOrder.get(3)).toHaveLength(2);
    expect(await inspector.requeue('default', 'no-such-job')).toBe(false);
  });
});

describe('poison input goes dead at once', () => {
  it('a payload that fails its schema is not retried', async () => {
    // Straight through BullMQ, as a buggy producer in another codebase would.
    const job = await bed.client.queue('default').add('send_receipt', { order_id: 'seven' }, { attempts: 26 });

    expect(await finalState(job.id!)).toBe('failed');
    const dead = await inspector.deadJob('default', job.id!);
    expect(dead?.attemptsMade).toBe(1);
    expect(dead?.error).toMatch(/^bad payload for send_receipt: order_id: /);
  });

  it('a task with no handler is not retried', async () => {
    const job = await bed.client.queue('default').add('send_fax', { to: '555-0100' }, { attempts: 26 });

    expect(await finalState(job.id!)).toBe('failed');
    const dead = await inspector.deadJob('default', job.id!);
    expect(dead?.attemptsMade).toBe(1);
    expect(dead?.error).toBe('no handler for task "send_fax"');
  });
});

describe('retryDelay', () => {
  const policy = { baseDelayMs: 1_000, maxDelayMs: 60_000 };

  it('doubles from the base delay and jitters into the upper half', () => {
    expect(retryDelay(1, policy, () => 0)).toBe(500);
    expect(retryDelay(1, policy, () => 1)).toBe(1_000);
    expect(retryDelay(3, policy, () => 0)).toBe(2_000);
    expect(retryDelay(3, policy, () => 1)).toBe(4_000);
  });

  it('never goes above the cap', () => {
    expect(retryDelay(25, policy, () => 1)).toBe(60_000);
  });
});
