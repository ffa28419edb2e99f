import { join, relative } from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { createVitest, type Vitest } from 'vitest/node';
import { editedFiles, exerciseDir, ROOT, type Target } from '../course.ts';
import type { Exercise } from '../manifest.ts';
import type { Failure, TestOutcome, Verdict } from './verdict.ts';

// How the course runs its suites through Vitest and reads what they found:
// the watch screen (cli/runner.ts) runs one exercise at a time, course:check
// (check/run-suites.ts) all of them at once.

/**
 * createCourseVitest makes a Vitest for workshop/vitest.config.ts that reports
 * nothing itself: the caller reads the results and tells the learner.
 */
export function createCourseVitest(target: Target, reporter: Reporter = {}): Promise<Vitest> {
  // Read by workshop/vitest.config.ts.
  process.env.COURSE_TARGET = target;
  return createVitest('test', {
    config: join(ROOT, 'workshop', 'vitest.config.ts'),
    watch: false,
    reporters: [reporter],
    // The verdict shows what matters; the tests' own console output would only clutter it.
    silent: true,
  });
}

/** filesOf lists an exercise's files in the folder of a target, as absolute paths. */
export function filesOf(exercise: Exercise, target: Target): string[] {
  return editedFiles(exercise).map((file) => join(exerciseDir(exercise, target), file));
}

/** outcomeOf reads one suite's results: each test, and the errors outside any test. */
export function outcomeOf(module: TestModule | undefined, files: string[]): Pick<Verdict, 'tests' | 'errors'> {
  if (!module) return { tests: [], errors: [] };
  return {
    tests: [...module.children.allTests()].map((test) => toOutcome(test, files)),
    errors: module.errors().map((error) => toFailure(error, files)),
  };
}

/** suiteOf is the test file that checks an exercise. */
export function suiteOf(exercise: Exercise): string {
  return join(ROOT, 'test', 'exercises', `${exercise.slug}.test.ts`);
}

function toOutcome(test: TestCase, files: string[]): TestOutcome {
  const result = test.result();
  const state = result.state === 'passed' ? 'passed' : result.state === 'failed' ? 'failed' : 'skipped';
  return {
    name: test.name,
    state,
    failures: (result.errors ?? []).map((error) => toFailure(error, files)),
    evidence: test.meta().evidence ?? [],
  };
}

interface ErrorLike {
  message?: string;
  name?: string;
  diff?: string;
  stack?: string;
  stacks?: { file: string; line: number; column: number; method?: string }[];
}

export function toFailure(error: unknown, files: string[]): Failure {
  const e = (error ?? {}) as ErrorLike;
  const message = e.message || e.name || String(error);
  const learnerFrames: string[] = [];
  const testFrames: string[] = [];
  for (const frame of e.stacks ?? []) {
    const where = `${relative(ROOT, frame.file)}:${frame.line}:${frame.column}`;
    if (files.includes(frame.file)) learnerFrames.push(`${frame.method ? `${frame.method} ` : ''}${where}`);
    else if (frame.file.includes('/test/exercises/')) testFrames.push(where);
  }
  return { message, diff: e.diff, frames: [...learnerFrames.slice(0, 3), ...testFrames.slice(0, 1).map((where) => `checked at ${where}`)] };
}
