import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { findExercise, runCommand, type Target } from '../../workshop/course.ts';
import type { Exercise, ProcessName } from '../../workshop/manifest.ts';
import { spawnCommand, type ChildScript } from '../harness/process.ts';

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
 * It runs in a process group of its own, as in a terminal: `interrupt()` is a
 * Ctrl-C. Its output is JSON log lines (no TTY). Stop it with stopAll() from
 * test/harness/process.ts.
 */
export function startProcess(name: ProcessName, env: Record<string, string>, args: string[] = []): ChildScript {
  const exercise = currentExercise();
  const command = [runCommand(name, exercise), ...args].join(' ');
  // course:check reads this list to prove that every README command was run.
  if (process.env.COURSE_RECORD) appendFileSync(process.env.COURSE_RECORD, `${JSON.stringify({ exercise: exercise.number, process: name })}\n`);
  return spawnCommand(command, { ...env, COURSE_TARGET: exercise.target }, `${name} (exercise ${exercise.number})`);
}
