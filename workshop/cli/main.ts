/**
 * The workshop's command line. package.json maps the scripts onto it:
 *
 *   npm run exercise [N]   check an exercise; watches in a terminal, runs once otherwise
 *   npm run hint N         the next hint
 *   npm run solution N     where the solution is, and why it works
 *   npm run reset N        put the starter files back (yours are kept in .workshop/backups/)
 *   npm run diff N         your files against the solution
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { editedFiles, exerciseDir, findExercise, pad2, ROOT, targetFromEnv } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';
import { diffWithSolution, resetExercise } from './files.ts';
import { nodeVersionProblem } from './node-version.ts';
import { Progress } from './progress.ts';
import { renderHints, renderProgress } from './render.ts';
import { bold, colour, dim, green, red } from './style.ts';

const USAGE = `usage:
  npm run exercise [N] [-- --once | --manual]
  npm run hint N [-- --all]
  npm run solution N
  npm run reset N
  npm run diff N`;

async function main(argv: string[]): Promise<number> {
  const tooOld = nodeVersionProblem();
  if (tooOld) return fail(tooOld, 2);

  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { once: { type: 'boolean' }, manual: { type: 'boolean' }, all: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, number] = positionals;
  if (values.help || !command) return say(USAGE, command ? 0 : 2);
  if (command === 'exercise') return exercise(number, values);
  if (!number) return fail(`Which exercise? e.g. \`npm run ${command} 3\`.`, 2);
  const target = findExercise(number);
  switch (command) {
    case 'hint':
      return hint(target, Boolean(values.all));
    case 'solution':
      return solution(target);
    case 'reset':
      return reset(target);
    case 'diff':
      return say(diffWithSolution(target));
    default:
      return fail(`Unknown command "${command}".\n${USAGE}`, 2);
  }
}

async function exercise(number: string | undefined, opts: { once?: boolean; manual?: boolean }): Promise<number> {
  const progress = new Progress();
  let chosen: Exercise;
  if (number) {
    chosen = findExercise(number);
  } else {
    // No number: show where the learner is, and carry on at the first exercise not solved yet.
    chosen = EXERCISES.find((e) => !progress.isSolved(e)) ?? EXERCISES.at(-1)!;
    say(`${renderProgress((e) => progress.isSolved(e), chosen, process.stdout.columns)}\n`);
  }

  const interactive = Boolean(process.stdout.isTTY) && !opts.once;
  // Loaded here, not at the top: they bring Vitest and TypeScript, which hint, diff and reset do not need.
  const { Session } = await import('./session.ts');
  const { PreflightError } = await import('./services.ts');
  let session: Awaited<ReturnType<typeof Session.open>>;
  try {
    if (interactive) say(dim('Looking for Redis and a mail catcher…'));
    session = await Session.open(targetFromEnv(), chosen);
  } catch (err) {
    if (err instanceof PreflightError) return fail(`Before the check can run:\n${err.message}`, 2);
    throw err;
  }
  try {
    if (interactive) {
      say(dim(session.services.description.join('\n')));
      const { watchExercise } = await import('./watch.ts');
      await watchExercise(session, chosen, { manual: Boolean(opts.manual) });
      return 0;
    }
    process.stderr.write(`${colour(dim(session.services.description.join('\n')))}\n`);
    const { text, ok } = await session.check(chosen);
    say(text);
    return ok ? 0 : 1;
  } finally {
    await session.close();
  }
}

function hint(exercise: Exercise, all: boolean): number {
  const shown = all ? exercise.hints.length : new Progress().seeHint(exercise);
  return say(renderHints(exercise, shown, { interactive: false }));
}

function solution(exercise: Exercise): number {
  const dir = exerciseDir(exercise, 'solutions');
  const readme = join(dir, 'README.md');
  const lines = [bold(`Exercise ${pad2(exercise.number)} · ${exercise.title}: the solution`), ''];
  if (existsSync(readme)) lines.push(readFileSync(readme, 'utf8').trim(), '');
  lines.push('The finished files:');
  for (const file of editedFiles(exercise)) lines.push(`  ${relative(ROOT, join(dir, file))}`);
  lines.push('', dim(`\`npm run diff ${exercise.number}\` shows only what differs from your files.`));
  return say(lines.join('\n'));
}

function reset(exercise: Exercise): number {
  const { backup, restored } = resetExercise(exercise);
  new Progress().forget(exercise);
  if (restored.length === 0) return say(`Exercise ${pad2(exercise.number)}'s files are already the starters.`);
  const lines = [green(`Exercise ${pad2(exercise.number)} is back to its starter files:`), ...restored.map((file) => `  ${file}`)];
  if (backup) lines.push('', `Your versions are kept in ${backup}/`);
  return say(lines.join('\n'));
}

function say(text: string, code = 0): number {
  process.stdout.write(`${colour(text)}\n`);
  return code;
}

function fail(text: string, code = 1): number {
  process.stderr.write(`${colour(red(text))}\n`);
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A mistyped exercise number and the like: say it plainly, without a stack.
    process.stderr.write(`${colour(red((err as Error).message ?? String(err)))}\n`);
    process.exit(2);
  },
);
