import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, inject } from 'vitest';
import { NOT_RUN_YET } from '../../../workshop/shared/verdict.ts';
import { findExercise, runCommand, type Target } from '../../../workshop/course.ts';
import type { Exercise, ProcessName } from '../../../workshop/manifest.ts';
import { WARM_SOCKET_ENV } from '../../../workshop/warm/host.ts';
import { spawnCommand, type ChildScript } from '../child-script.ts';
import { warmProcess } from './warm-process.ts';

/** CourseContext says which exercise a suite checks, and in which folder. workshop/vitest.config.ts provides it. */
export interface CourseContext {
  number: number;
  target: Target;
  /** The folder of the files under check: exercises/NN-slug or solutions/NN-slug. */
  dir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    course: CourseContext;
    /** Set by `npm run exercise` for a re-run of an exercise whose last check passed (see afterEarlierChecks). */
    earlyStart: boolean;
  }
}

/** currentExercise is the exercise this suite checks, with the folder of the files under check. */
export function currentExercise(): Exercise & CourseContext {
  const context = inject('course');
  return { ...findExercise(context.number), ...context };
}

/** fileUnderCheck is the absolute path of one of the exercise's files, in the folder under check. */
export function fileUnderCheck(relativePath: string): string {
  return join(currentExercise().dir, relativePath);
}

/**
 * startProcess runs one of the app's processes with the exercise's files, by
 * the exact command its README gives (`node --import tsx workshop/run.ts worker 4`).
 * It runs in a process group of its own, as in a terminal: `kill('SIGINT')` is
 * a Ctrl-C. Its output is JSON log lines (no TTY). Stop it with stopAll() from
 * test/support/child-script.ts.
 *
 * Under `npm run exercise`, which starts such processes ahead of time
 * (workshop/warm/), it takes one of those: the same entry point, arguments
 * and environment, without loading the app's packages again.
 */
export function startProcess(name: ProcessName, env: Record<string, string>, args: string[] = []): ChildScript {
  const exercise = currentExercise();
  const label = `${name} (exercise ${exercise.number})`;
  // course:check reads this list to prove that every README command was run.
  if (process.env.COURSE_RECORD) appendFileSync(process.env.COURSE_RECORD, `${JSON.stringify({ exercise: exercise.number, process: name })}\n`);
  const warm = process.env[WARM_SOCKET_ENV];
  if (warm) {
    const fullEnv = { ...(process.env as Record<string, string>), LOG_LEVEL: 'info', ...env, COURSE_TARGET: exercise.target };
    return warmProcess(warm, { args: [name, String(exercise.number), ...args], env: fullEnv }, label);
  }
  const command = [runCommand(name, exercise), ...args].join(' ');
  return spawnCommand(command, { ...env, COURSE_TARGET: exercise.target }, label);
}

// The checks of this suite file that failed so far, in order. Registered when
// the suite imports this module, so the hook covers the whole file.
const failedSoFar: string[] = [];
afterEach(({ task }) => {
  if (task.result?.state === 'fail') failedSoFar.push(task.name);
});

/**
 * afterEarlierChecks wraps the start of a suite's end-to-end part: your real
 * API and worker processes, say. Each end-to-end test awaits what it returns.
 * The processes start the first time a test asks, and only once every check
 * that ran before has passed: until then the test fails at once, naming the
 * first check to fix. So a re-run on save, while the first TODOs are still
 * open, does not boot processes that cannot pass yet, and stays quick.
 *
 * With `early`, a re-run of an exercise whose last check passed starts them
 * at once instead, beside the checks above, which most likely pass again;
 * the end-to-end tests still wait for those checks' verdict, as above. Only
 * for a start that shares nothing with the checks above it.
 */
export function afterEarlierChecks<T>(start: () => Promise<T>, opts: { early?: boolean } = {}, lastCheckPassed = () => inject('earlyStart')): () => Promise<T> {
  let started: Promise<T> | undefined;
  if (opts.early && lastCheckPassed()) {
    started = start();
    started.catch(() => {}); // a failed start shows in the test that awaits it
  }
  /** The first check that failed before the first end-to-end test asked, if one did. */
  let blockedBy: string | null | undefined;
  return () => {
    blockedBy ??= failedSoFar[0] ?? null;
    if (blockedBy) {
      return Promise.reject(new Error(`${NOT_RUN_YET}: this check runs your processes once the checks above it pass. First: "${blockedBy}"`));
    }
    return (started ??= start());
  };
}
