// Exercise 02 says what BullMQ does with a delay that enqueueIn lets through,
// and its check names BullMQ's refusal by the error's class (ReplyError).
// These tests hold both to BullMQ.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { jobsTestbed } from '../support/jobs.ts';

const README = readFileSync(new URL('../../exercises/02-enqueue-later/README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');

const bed = jobsTestbed('texts02');
afterAll(() => bed.cleanup());

describe("exercise 02's README, on a delay BullMQ is handed as it is", () => {
  it('a negative delay is taken for no delay: the job is due at once', async () => {
    expect(README).toContain('it takes a negative delay for no delay and runs the job at once');
    const job = await bed.client.queue('default').add('send_receipt', { order_id: 1 }, { delay: -1_000 });
    expect(await job.getState()).toBe('waiting');
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY])('%s fails inside Redis, in one of BullMQ\'s scripts, with a ReplyError', async (delay) => {
    expect(README).toContain("NaN fails inside Redis, in one of BullMQ's scripts");
    const error = await bed.client
      .queue('default')
      .add('send_receipt', { order_id: 1 }, { delay })
      .then(
        () => undefined,
        (err: Error) => err,
      );
    expect(error?.name, "the 02 suite's refusalProblem() recognises BullMQ's refusal by this name").toBe('ReplyError');
    expect(error?.message).toMatch(/script/);
  });
});
