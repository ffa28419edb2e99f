// Exercise 02 says what happens to a delay that enqueueIn lets through to
// add(), and its check names BullMQ's refusal by the error's class
// (ReplyError). These tests hold both to the app's add() and to BullMQ.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { EnqueuedJob, EnqueueOptions } from '../../src/jobs/client.ts';
import { jobsTestbed } from '../support/jobs.ts';

const README = readFileSync(new URL('../../exercises/02-enqueue-later/README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');

const bed = jobsTestbed('texts02');
afterAll(() => bed.cleanup());

/** add is JobsClient's private add(), the one enqueueIn calls once the delay is checked. */
const add = (delay: number) =>
  (bed.client as unknown as { add(task: string, payload: object, opts: EnqueueOptions, delay: number): Promise<EnqueuedJob> }).add('send_receipt', { order_id: 1 }, {}, delay);

describe("exercise 02's README, on a delay that enqueueIn lets through to add()", () => {
  it.each([-1_000, Number.NaN])('%s runs the job at once', async (delay) => {
    expect(README).toContain('so a negative delay or NaN runs the job at once');
    const { id, queue } = await add(delay);
    expect(await bed.client.queue(queue).getJobState(id)).toBe('waiting');
  });

  it("Infinity fails inside Redis, in one of BullMQ's scripts, with a ReplyError", async () => {
    expect(README).toContain("Infinity fails inside Redis, in one of BullMQ's scripts");
    const error = await add(Number.POSITIVE_INFINITY).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.name, "the 02 suite's refusalProblem() recognises BullMQ's refusal by this name").toBe('ReplyError');
    expect(error?.message).toMatch(/script/);
  });
});
