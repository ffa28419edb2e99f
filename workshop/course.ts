import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { EXERCISES, type Exercise, type ProcessName } from './manifest.ts';

/** ROOT is the repository's root folder; SRC is the reference app. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SRC = join(ROOT, 'src');

/**
 * The exercise suites live with the other tests, in test/exercises/. Where no
 * services are handed to them (course:check), the tests' own harness boots
 * Redis and a mail catcher: this is its Vitest global setup.
 */
export const TEST_HARNESS_SETUP = join(ROOT, 'test', 'support', 'services', 'global-setup.ts');

/**
 * Target says which copy of an exercise's files to use: the learner's
 * (`exercises`, the default) or the finished ones (`solutions`).
 */
export type Target = 'exercises' | 'solutions';

/** targetFromEnv reads COURSE_TARGET; unset means the learner's files. */
export function targetFromEnv(env: NodeJS.ProcessEnv = process.env): Target {
  const value = env.COURSE_TARGET || 'exercises';
  if (value !== 'exercises' && value !== 'solutions') {
    throw new Error(`COURSE_TARGET must be "exercises" or "solutions", not "${value}"`);
  }
  return value;
}

/**
 * findExercise turns what a learner types ("3", "03", "03-first-handler")
 * into the exercise, or throws a message that lists the valid numbers.
 */
export function findExercise(input: string | number): Exercise {
  const text = String(input).trim();
  const number = /^\d{1,2}(-|$)/.test(text) ? Number.parseInt(text, 10) : Number.NaN;
  const found = EXERCISES.find((e) => e.number === number);
  if (!found) {
    throw new Error(`There is no exercise "${text}". Pick a number from 1 to ${EXERCISES.length}, e.g. \`npm run exercise 3\`.`);
  }
  return found;
}

/** exerciseDir is the folder that holds an exercise's files for a target. */
export function exerciseDir(exercise: Exercise, target: Target = 'exercises'): string {
  return join(ROOT, target, exercise.slug);
}

/** editedFiles lists an exercise's files, relative to its folder: src/ twins first, then its own. */
export function editedFiles(exercise: Exercise): string[] {
  return [...exercise.files, ...(exercise.ownFiles ?? [])];
}

/** runCommand is the exact command a README gives to run one of the app's processes with an exercise's files. */
export function runCommand(process: ProcessName, exercise: Exercise): string {
  return `node --import tsx workshop/run.ts ${process} ${exercise.number}`;
}

/** PRESTART_FORKS_ENV=1 has workshop/vitest.config.ts start each check's fork ahead of time (the watch screen). */
export const PRESTART_FORKS_ENV = 'COURSE_PRESTART_FORKS';

/** pad2 writes 3 as "03", as the folders do. */
export function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
