// afterEarlierChecks' early start: on a re-run after a pass (`npm run exercise`
// provides earlyStart), an end-to-end part marked `early` starts at once,
// beside the checks above it, instead of when its first test asks.
import { describe, expect, it } from 'vitest';
import { afterEarlierChecks } from '../support/course/exercise.ts';

const starts: string[] = [];

describe('an end-to-end part marked early', () => {
  const afterAPass = () => true;
  const early = afterEarlierChecks(async () => starts.push('early') && 'up', { early: true }, afterAPass);
  const lazy = afterEarlierChecks(async () => starts.push('lazy') && 'up', {}, afterAPass);
  const notAReRun = afterEarlierChecks(async () => starts.push('not a re-run') && 'up', { early: true }, () => false);

  it('starts while the suite is read, before any test asks, when the last check passed', () => {
    expect(starts).toEqual(['early']);
  });

  it('is started once, and every test that asks gets the same start', async () => {
    expect(await early()).toBe('up');
    expect(await early()).toBe('up');
    expect(await lazy()).toBe('up');
    expect(await notAReRun()).toBe('up');
    expect(starts).toEqual(['early', 'lazy', 'not a re-run']);
  });
});
