import type { Exercise } from '../manifest.ts';
import type { TypeProblem } from '../cli/typecheck.ts';

/**
 * NOT_RUN_YET begins the message of an end-to-end check that waits for the
 * checks above it (afterEarlierChecks in test/support/course/exercise.ts); the verdict
 * says why once, then briefly.
 */
export const NOT_RUN_YET = 'Not run yet';

/**
 * TODO_NOT_DONE is the message of a gap the starter leaves, "TODO(n) is not
 * done yet: what is missing"; the verdict says it once per TODO. Its groups
 * are the TODO's number and what is missing.
 */
export const TODO_NOT_DONE = /^TODO\((\d+)\) is not done yet:?\s*(.*)/;

/** Evidence is a section that a failing test attached and the verdict shows under it (the suites attach it with explain(), test/support/course/evidence.ts). */
export interface Evidence {
  title: string;
  text: string;
}

/** Failure is one failed expectation: the message, the expected/received diff, where it happened. */
export interface Failure {
  message: string;
  diff?: string;
  /** Stack frames in the learner's files, then the line of the test that failed. */
  frames: string[];
}

/** TestOutcome is one check of the exercise's suite. */
export interface TestOutcome {
  name: string;
  state: 'passed' | 'failed' | 'skipped';
  failures: Failure[];
  evidence: Evidence[];
}

/** Verdict is everything one run of an exercise's check found. */
export interface Verdict {
  exercise: Exercise;
  typeProblems: TypeProblem[];
  tests: TestOutcome[];
  /** Errors outside any test: a file that does not load, a crash between tests. */
  errors: Failure[];
  durationMs: number;
}

/**
 * checkCounts counts the checks as the verdict's header does: each test of
 * the suite, and the type check as one more.
 */
export function checkCounts(verdict: Verdict): { total: number; failing: number } {
  const failingTests = verdict.tests.filter((test) => test.state !== 'passed').length;
  return { total: verdict.tests.length + 1, failing: failingTests + (verdict.typeProblems.length > 0 ? 1 : 0) };
}

/** CheckProgress is how far a check has got, while it runs. */
export interface CheckProgress {
  /** How many tests the suite has; 0 until Vitest has read it. */
  total: number;
  passed: number;
  failed: number;
  /** The name of the test that runs now, if one does. */
  running?: string;
}

/** passed: no type errors, no stray errors, at least one test and every test passed. */
export function passed(verdict: Verdict): boolean {
  return (
    verdict.typeProblems.length === 0 &&
    verdict.errors.length === 0 &&
    verdict.tests.length > 0 &&
    verdict.tests.every((test) => test.state === 'passed')
  );
}
