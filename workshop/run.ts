/**
 * Runs one of the app's processes with an exercise's files in place of src/'s:
 *
 *   node --import tsx workshop/run.ts worker 4      your cmd/worker.ts, the rest from src/
 *   node --import tsx workshop/run.ts api 10        the API with your route, task and handler
 *   node --import tsx workshop/run.ts jobs 7 dead   `npm run jobs -- dead` with your Inspector
 *
 * It is the reference app's own entry point (src/cmd/<process>.ts), so what
 * you see is what the app does with your code. COURSE_TARGET=solutions (or
 * --solution) runs the finished files instead. Exercise processes use their own
 * queue prefix and database, so they never mix with `npm start`'s.
 */
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { join, relative } from 'node:path';
import { ROOT, SRC, editedFiles, exerciseDir, findExercise, targetFromEnv } from './course.ts';
import type { ProcessName } from './manifest.ts';

const PROCESSES: readonly ProcessName[] = ['api', 'worker', 'scheduler', 'jobs'];
/** Exercise processes share these unless the environment says otherwise. */
const EXERCISE_DEFAULTS = { QUEUE_PREFIX: 'workshop', DATABASE_PATH: 'data/workshop.db' } as const;

const args = process.argv.slice(2);
const solution = args.includes('--solution');
const [name, number, ...afterNumber] = args.filter((arg) => arg !== '--solution');
// `jobs 7 -- dead` reads like `npm run jobs -- dead`: the `--` is not the jobs CLI's.
const rest = afterNumber[0] === '--' ? afterNumber.slice(1) : afterNumber;

if (!name || !number || !PROCESSES.includes(name as ProcessName)) {
  console.error(`usage: node --import tsx workshop/run.ts <${PROCESSES.join('|')}> <exercise number> [arguments for jobs]`);
  process.exit(2);
}

let dir: string;
try {
  const exercise = findExercise(number);
  dir = exerciseDir(exercise, solution ? 'solutions' : targetFromEnv());
  const files = editedFiles(exercise).filter((file) => existsSync(join(dir, file)));
  console.error(`▶ ${name} with the files of ${relative(ROOT, dir)}/ (${files.join(', ')}); everything else from src/`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

for (const [key, value] of Object.entries(EXERCISE_DEFAULTS)) process.env[key] ||= value;
// The jobs CLI reads its own arguments from process.argv.
process.argv = [process.argv[0]!, join(SRC, 'cmd', `${name}.ts`), ...rest];

register('./overlay/hooks.ts', import.meta.url, { data: { dir, src: SRC } });
await import(join(SRC, 'cmd', `${name}.ts`));
