import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RETRY } from '../../src/jobs/defaults.ts';
import { DEFAULT_RETRY_POLICY, retryDelay } from '../../src/jobs/retry.ts';

// Exercise 10's README tells what the worker does in step 6 with the default
// configuration. Its suite runs with retries brought forward, so these tests
// hold the README's numbers to the code.

const README = readFileSync(new URL('../../exercises/10-try-it/README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');

describe('exercises/10-try-it/README.md', () => {
  it('gives the number of attempts the worker logs, and what it is made of', () => {
    const runs = DEFAULT_MAX_RETRY + 1;
    for (const [, said] of README.matchAll(/job failed \(attempt 1 of (\d+)\)/g)) expect(Number(said)).toBe(runs);
    expect(README).toContain(`${runs} is the first run and ${DEFAULT_MAX_RETRY} retries`);
  });

  it('gives the wait before the first retry', () => {
    const [, from, to] = /the first retry waits ([\d.]+) to ([\d.]+) s\b/.exec(README) ?? [];
    expect(from, 'the README should say how long the first retry waits').toBeDefined();
    const real = [retryDelay(1, DEFAULT_RETRY_POLICY, () => 0) / 1_000, retryDelay(1, DEFAULT_RETRY_POLICY, () => 1) / 1_000];
    expect([Number(from), Number(to)]).toEqual(real);
  });
});
