// The watch screen's state machine, driven event by event with a fake runner:
// no terminal, no Vitest, no Redis. Each stale case a learner met has a test.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findExercise } from '../../workshop/course.ts';
import type { Exercise } from '../../workshop/manifest.ts';
import { Progress } from '../../workshop/cli/progress.ts';
import type { CheckProgress, TestOutcome, Verdict } from '../../workshop/shared/verdict.ts';
import { WatchScreen } from '../../workshop/cli/watch-screen.ts';

interface PendingCheck {
  exercise: Exercise;
  onProgress: (progress: CheckProgress) => void;
  finish(verdict: Verdict): Promise<void>;
}

/** A verdict whose tests are named `<title>: check n`, all passing or all failing. */
function verdictFor(exercise: Exercise, ok: boolean, opts: { tests?: number; typeErrors?: number } = {}): Verdict {
  const tests: TestOutcome[] = Array.from({ length: opts.tests ?? 2 }, (_, i) => ({
    name: `${exercise.title}: check ${i + 1}`,
    state: ok ? 'passed' : 'failed',
    failures: ok ? [] : [{ message: `check ${i + 1} of ${exercise.title} failed: expected 1 to be 2\nsecond line ${i + 1}`, frames: [`checked at test/exercises/x.test.ts:${i + 1}:1`] }],
    evidence: ok ? [] : [{ title: `evidence ${i + 1}`, text: `what Redis held for check ${i + 1}` }],
  }));
  const typeProblems = Array.from({ length: opts.typeErrors ?? 0 }, () => ({ where: 'exercises/x.ts:1:1', message: "Type 'string' is not assignable to type 'number'.", excerpt: 'x' }));
  return { exercise, tests, typeProblems, errors: [], durationMs: 1_234 };
}

/** harness builds a WatchScreen on fake deps, and keeps what it drew and which checks it started. */
function harness(first = findExercise(1), progressFile = join(mkdtempSync(join(tmpdir(), 'watch-screen-')), 'progress.json'), notice = '') {
  const checks: PendingCheck[] = [];
  let cancelled = 0;
  let clock = 0;
  let last = '';
  const progress = new Progress(progressFile);
  const screen = new WatchScreen(
    {
      target: 'exercises',
      progress,
      servicesSummary: 'Redis redis://test · inbox http://test',
      check: (exercise, onProgress) =>
        new Promise<Verdict>((resolve) => {
          checks.push({
            exercise,
            onProgress,
            // Resolves once the screen has handled the result (it arrives through a promise).
            finish: (verdict) => {
              resolve(verdict);
              return new Promise((r) => setImmediate(r));
            },
          });
        }),
      cancel: () => void cancelled++,
      watchFiles: () => {},
      diff: () => 'the diff',
      draw: (text) => (last = text),
      now: () => clock,
      columns: () => 100,
    },
    first,
    { manual: false, notice },
  );
  return {
    screen,
    progress,
    progressFile,
    checks,
    cancelled: () => cancelled,
    shown: () => last,
    advance: (ms: number) => (clock += ms),
  };
}

describe('the watch screen', () => {
  it('runs the check at start, shows progress while it runs, then the verdict', async () => {
    const h = harness();
    h.screen.handle({ type: 'start' });
    expect(h.checks).toHaveLength(1);
    expect(h.shown()).toContain('⟳ checking exercise 01 · starting · 0 s');

    h.checks[0]!.onProgress({ total: 5, passed: 2, failed: 1, running: 'puts the task on the queue the caller names (TODO 2)' });
    h.advance(3_400);
    h.screen.handle({ type: 'tick' });
    expect(h.shown()).toContain('⟳ checking exercise 01 · 3 of 5 done: 2 passed, 1 failed · 3 s');
    expect(h.shown()).toContain('running: puts the task on the queue the caller names (TODO 2)');

    await h.checks[0]!.finish(verdictFor(findExercise(1), false));
    expect(h.shown()).toContain('Exercise 01 · Enqueue now   ✗ 2 of 3 checks fail');
    expect(h.shown()).not.toContain('⟳');
  });

  it('keeps a save that comes while a check runs, and checks again when it ends', async () => {
    const h = harness();
    h.screen.handle({ type: 'start' });
    h.screen.handle({ type: 'saved' });
    expect(h.checks, 'one check at a time').toHaveLength(1);
    expect(h.cancelled(), 'the check of the old files is stopped early').toBe(1);

    await h.checks[0]!.finish(verdictFor(findExercise(1), false));
    expect(h.checks, 'the save starts a second check once the first ends').toHaveLength(2);
    expect(h.shown(), "the first check's result is of files that changed since: not shown").not.toContain('checks fail');

    await h.checks[1]!.finish(verdictFor(findExercise(1), true));
    expect(h.shown()).toContain('✓ all 3 checks pass');
  });

  it("after n during a check, never shows the previous exercise's verdict under the next one", async () => {
    const h = harness(findExercise(4));
    h.screen.handle({ type: 'start' });
    h.screen.handle({ type: 'key', key: { name: 'n' } });
    expect(h.shown()).toContain('⟳ checking exercise 05');

    await h.checks[0]!.finish(verdictFor(findExercise(4), false));
    expect(h.shown()).not.toContain('Exercise 04');
    expect(h.checks.map((c) => c.exercise.number), 'exercise 05 is checked once 04 is out of the way').toEqual([4, 5]);

    await h.checks[1]!.finish(verdictFor(findExercise(5), false));
    expect(h.shown()).toContain('Exercise 05 · Cron, exactly once');
    expect(h.shown()).not.toContain('Exercise 04');
  });

  it('says why it opened on this exercise until the learner moves on', () => {
    const h = harness(findExercise(3), undefined, '2 of 11 solved; here is exercise 03, the first not solved yet. Press l for the list.');
    h.screen.handle({ type: 'start' });
    expect(h.shown()).toContain('here is exercise 03, the first not solved yet');
    h.screen.handle({ type: 'key', key: { name: 'n' } });
    expect(h.shown()).not.toContain('the first not solved yet');
  });

  it('shows a reset made in another terminal at once', () => {
    const h = harness();
    const elsewhere = new Progress(h.progressFile);
    for (const n of [1, 2, 3]) elsewhere.markSolved(findExercise(n));
    h.screen.handle({ type: 'progress-file-changed' });
    expect(h.shown()).toContain('3/11 solved');

    elsewhere.forgetSolved(findExercise(2));
    h.screen.handle({ type: 'progress-file-changed' });
    expect(h.shown()).toContain('2/11 solved');
  });

  it('records a pass, even when another terminal reset the exercise after this screen read the progress', async () => {
    const h = harness();
    h.progress.markSolved(findExercise(1));
    new Progress(h.progressFile).forgetSolved(findExercise(1)); // `npm run reset 1` elsewhere
    h.screen.handle({ type: 'start' });
    await h.checks[0]!.finish(verdictFor(findExercise(1), true));
    const saved = JSON.parse(readFileSync(h.progressFile, 'utf8')) as { solved: Record<string, string> };
    expect(Object.keys(saved.solved)).toEqual(['01-enqueue-now']);
  });

  it('does not count an exercise with a type error as solved', async () => {
    const h = harness();
    h.screen.handle({ type: 'start' });
    await h.checks[0]!.finish(verdictFor(findExercise(1), true, { typeErrors: 1 }));
    expect(h.shown()).toContain('✗ 1 of 3 checks fails');
    expect(h.progress.isSolved(findExercise(1))).toBe(false);
  });

  it('shows the first two failing checks in full, folds the rest, and f unfolds them', async () => {
    const h = harness();
    h.screen.handle({ type: 'start' });
    await h.checks[0]!.finish(verdictFor(findExercise(1), false, { tests: 4 }));
    const folded = h.shown();
    expect(folded).toContain('second line 2');
    expect(folded).toContain('evidence 2');
    expect(folded, 'a folded check shows its first line, whole').toContain('check 3 of Enqueue now failed: expected 1 to be 2');
    expect(folded).not.toContain('second line 3');
    expect(folded).toContain('2 more failing checks show only a first line: press f to see them in full.');

    h.screen.handle({ type: 'key', key: { name: 'f' } });
    expect(h.shown()).toContain('second line 4');
    expect(h.shown()).toContain('evidence 4');
  });

  it('after the last exercise passes, names the exercises still open instead of congratulating', async () => {
    const h = harness(findExercise(11));
    for (const n of [1, 2, 3, 4, 5]) h.progress.markSolved(findExercise(n));
    h.screen.handle({ type: 'start' });
    await h.checks[0]!.finish(verdictFor(findExercise(11), true));
    expect(h.shown()).toContain('That was the last exercise. Still open: 06, 07, 08, 09, 10.');
    expect(h.shown()).not.toContain('Congratulations');
  });
});
