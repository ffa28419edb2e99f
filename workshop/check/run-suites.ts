import type { Target } from '../course.ts';
import type { Exercise } from '../manifest.ts';
import type { Failure, TestOutcome } from '../shared/verdict.ts';
import { createCourseVitest, filesOf, outcomeOf, suiteOf, toFailure } from '../shared/vitest-results.ts';

/** SuiteResult is what one exercise's suite gave in a course-wide run. */
export interface SuiteResult {
  exercise: Exercise;
  tests: TestOutcome[];
  errors: Failure[];
}

/**
 * runAllSuites runs every exercise's suite once against a target, in one
 * Vitest run, and returns the results by exercise. Services come from
 * COURSE_SERVICES when set, else the test harness starts its own.
 */
export async function runAllSuites(target: Target, exercises: readonly Exercise[]): Promise<SuiteResult[]> {
  process.env.COURSE_ONLY = exercises.map((e) => e.number).join(',');
  const vitest = await createCourseVitest(target);
  try {
    const result = await vitest.start();
    const stray = result.unhandledErrors.map((error) => toFailure(error, []));
    return exercises.map((exercise) => {
      const outcome = outcomeOf(result.testModules.find((m) => m.moduleId === suiteOf(exercise)), filesOf(exercise, target));
      return { exercise, tests: outcome.tests, errors: [...outcome.errors, ...stray] };
    });
  } finally {
    await vitest.close();
    delete process.env.COURSE_ONLY;
  }
}
