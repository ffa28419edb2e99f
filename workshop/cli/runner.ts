import type { Reporter, Vitest } from 'vitest/node';
import type { Target } from '../course.ts';
import type { Exercise } from '../manifest.ts';
import type { Services } from '../shared/services.ts';
import { TypeCheckThread } from './typecheck-client.ts';
import { stopPrestartedForks } from '../warm/forks.ts';
import type { CheckProgress, Verdict } from '../shared/verdict.ts';
import { createCourseVitest, filesOf, outcomeOf, suiteOf, toFailure } from '../shared/vitest-results.ts';

/** OnProgress hears how far a check has got: after Vitest reads the suite, and as each test starts and ends. */
export type OnProgress = (progress: CheckProgress) => void;

/**
 * CourseRunner runs an exercise's check: its test suite through Vitest (with
 * the exercise folder laid over src/) and a type check of its files. It keeps
 * Vitest and TypeScript warm between runs, so a re-run after a save is quick.
 */
export class CourseRunner {
  #vitest: Promise<Vitest> | undefined;
  #types: TypeCheckThread | undefined;
  /** Hears the progress of the check under way; Vitest's reporter below calls it. */
  #onProgress: OnProgress | undefined;
  #progress: CheckProgress = { total: 0, passed: 0, failed: 0 };

  constructor(private readonly target: Target = 'exercises') {}

  /** useServices says where Redis and the mail catcher are. Call it before the first run. */
  useServices(services: Services): void {
    // Read by the global setup (workshop/shared/global-setup.ts) when the first run starts.
    process.env.COURSE_SERVICES = JSON.stringify(services);
  }

  /**
   * warmUp starts Vitest and TypeScript for an exercise before its first run,
   * so that their start-up overlaps with whatever the caller does meanwhile.
   */
  warmUp(exercise: Exercise): void {
    void this.#start().catch(() => {});
    void this.#typeCheck(exercise).catch(() => {});
  }

  /**
   * run checks an exercise. One at a time: a second call waits for Vitest to
   * be free. `earlyStart` tells the suite that the last check passed (see
   * afterEarlierChecks in test/support/course/exercise.ts).
   */
  async run(exercise: Exercise, onProgress?: OnProgress, opts: { earlyStart?: boolean } = {}): Promise<Verdict> {
    const started = Date.now();
    this.#progress = { total: 0, passed: 0, failed: 0 };
    this.#onProgress = onProgress;
    try {
      // The tests and the type check run side by side: the type check in a thread, the tests in a fork.
      const [tests, typeProblems] = await Promise.all([this.#runTests(exercise, Boolean(opts.earlyStart)), this.#typeCheck(exercise)]);
      return { exercise, typeProblems, ...tests, durationMs: Date.now() - started };
    } finally {
      this.#onProgress = undefined;
    }
  }

  /**
   * cancel ends the check under way early: the test that runs goes on to its
   * end, the rest are skipped, and run() resolves with what ran. For a check
   * whose result nobody wants any more (the files changed, or the learner
   * moved on).
   */
  async cancel(): Promise<void> {
    const vitest = await this.#vitest?.catch(() => undefined);
    await vitest?.cancelCurrentRun('keyboard-input');
  }

  async close(): Promise<void> {
    stopPrestartedForks();
    await this.#types?.close();
    this.#types = undefined;
    const vitest = await this.#vitest?.catch(() => undefined);
    await vitest?.close();
    this.#vitest = undefined;
  }

  async #runTests(exercise: Exercise, earlyStart: boolean): Promise<Pick<Verdict, 'tests' | 'errors'>> {
    const vitest = await this.#start();
    const project = vitest.getProjectByName(exercise.slug);
    project.provide('earlyStart', earlyStart);
    const files = filesOf(exercise, this.target);
    // The learner just saved: make Vitest read their files again.
    for (const file of files) vitest.invalidateFile(file);

    const result = await vitest.runTestSpecifications([project.createSpecification(suiteOf(exercise))]);
    const outcome = outcomeOf(result.testModules.find((module) => module.moduleId === suiteOf(exercise)), files);
    return { tests: outcome.tests, errors: [...outcome.errors, ...result.unhandledErrors.map((error) => toFailure(error, files))] };
  }

  #typeCheck(exercise: Exercise) {
    this.#types ??= new TypeCheckThread();
    return this.#types.check(filesOf(exercise, this.target));
  }

  #start(): Promise<Vitest> {
    return (this.#vitest ??= createCourseVitest(this.target, this.#reporter()));
  }

  /** #reporter turns Vitest's events into CheckProgress for whoever listens to this run. */
  #reporter(): Reporter {
    const tell = (change: Partial<CheckProgress>) => {
      this.#progress = { ...this.#progress, ...change };
      this.#onProgress?.({ ...this.#progress });
    };
    return {
      onTestModuleCollected: (module) => tell({ total: [...module.children.allTests()].length }),
      onTestCaseReady: (test) => tell({ running: test.name }),
      onTestCaseResult: (test) => {
        const state = test.result().state;
        tell({
          running: undefined,
          passed: this.#progress.passed + (state === 'passed' ? 1 : 0),
          failed: this.#progress.failed + (state === 'failed' ? 1 : 0),
        });
      },
    };
  }
}
