// One check of `npm run exercise N -- --once`, with a fake runner: what counts as solved.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findExercise } from '../../workshop/course.ts';
import { Progress } from '../../workshop/cli/progress.ts';
import { Session } from '../../workshop/cli/session.ts';
import type { TypeProblem } from '../../workshop/cli/typecheck.ts';
import type { Verdict } from '../../workshop/shared/verdict.ts';

const exercise = findExercise(2);
const services = {
  services: { redisUrl: 'redis://unused', smtpUrl: 'smtp://unused', mailUiUrl: 'http://unused', mailBackend: 'maildev' as const, backend: 'local' as const },
  description: [],
  summary: '',
  stop: async () => {},
};

/** sessionGiving makes a session whose every check gives this verdict. */
function sessionGiving(verdict: Omit<Verdict, 'exercise' | 'durationMs'>) {
  const progress = new Progress(join(mkdtempSync(join(tmpdir(), 'session-')), 'progress.json'));
  const runner = { run: async () => ({ ...verdict, exercise, durationMs: 10 }), cancel: async () => {}, close: async () => {} };
  return { session: new Session(services, runner, progress, 'exercises'), progress };
}

const passing = [{ name: 'waits before it runs (TODO 1)', state: 'passed' as const, failures: [], evidence: [] }];
const typeError: TypeProblem = { where: 'exercises/02-enqueue-later/jobs/client.ts:3:7', message: "Type 'string' is not assignable to type 'number'.", excerpt: 'const x: number = "1";' };

describe('a check run once', () => {
  it('records a pass', async () => {
    const { session, progress } = sessionGiving({ tests: passing, typeProblems: [], errors: [] });
    const { ok, text } = await session.check(exercise);
    expect(ok).toBe(true);
    expect(text).toContain('✓ all 2 checks pass');
    expect(progress.isSolved(exercise)).toBe(true);
  });

  it('does not count an exercise whose tests pass but whose files have a type error as solved', async () => {
    const { session, progress } = sessionGiving({ tests: passing, typeProblems: [typeError], errors: [] });
    const { ok, text } = await session.check(exercise);
    expect(ok).toBe(false);
    expect(text).toContain('✗ 1 of 2 checks fails');
    expect(text).toContain("exercises/02-enqueue-later/jobs/client.ts:3:7 Type 'string' is not assignable to type 'number'.");
    expect(progress.isSolved(exercise)).toBe(false);
  });

  it('does not count a suite that crashed, or ran no test, as solved', async () => {
    for (const verdict of [
      { tests: passing, typeProblems: [], errors: [{ message: 'Cannot find module', frames: [] }] },
      { tests: [], typeProblems: [], errors: [] },
    ]) {
      const { session, progress } = sessionGiving(verdict);
      expect((await session.check(exercise)).ok).toBe(false);
      expect(progress.isSolved(exercise)).toBe(false);
    }
  });
});
