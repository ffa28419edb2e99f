/**
 * The workshop's command line. package.json maps the scripts onto it:
 *
 *   npm run exercise [N]   check an exercise; watches in a terminal, runs once otherwise
 *   npm run hint N         the next hint
 *   npm run solution N     where the solution is, and why it works
 *   npm run reset N        put the starter files back (yours are kept in .workshop/backups/); asks first in a terminal
 *   npm run diff N         your code against the solution's (the starter's 🐨 comments left out)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { editedFiles, exerciseDir, findExercise, pad2, ROOT, targetFromEnv } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';
import { BACKUPS, changedFiles, diffWithSolution, resetExercise } from './files.ts';
import { nodeVersionProblem } from './node-version.ts';
import { Progress } from './progress.ts';
import { renderHints, renderProgress } from './render.ts';
import { bold, colour, dim, green, red } from './style.ts';

const USAGE = `usage:
  npm run exercise [N] [-- --once | --manual]
  npm run hint N [-- --all]
  npm run solution N
  npm run reset N [-- --yes]
  npm run diff N`;

async function main(argv: string[]): Promise<number> {
  const tooOld = nodeVersionProblem();
  if (tooOld) return fail(tooOld, 2);

  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      once: { type: 'boolean' },
      manual: { type: 'boolean' },
      all: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      help: { type: 'boolean', short: 'h' },
    },
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
      return reset(target, Boolean(values.yes));
    case 'diff':
      return say(diffWithSolution(target));
    default:
      return fail(`Unknown command "${command}".\n${USAGE}`, 2);
  }
}

async function exercise(number: string | undefined, opts: { once?: boolean; manual?: boolean }): Promise<number> {
  const progress = new Progress();
  const interactive = Boolean(process.stdout.isTTY) && !opts.once;
  let chosen: Exercise;
  let notice = '';
  if (number) {
    chosen = findExercise(number);
  } else {
    // No number: carry on at the first exercise not solved yet. The watch screen
    // says so (its list is one key away); a run without one prints the list first.
    chosen = EXERCISES.find((e) => !progress.isSolved(e)) ?? EXERCISES.at(-1)!;
    const solved = progress.solvedCount(EXERCISES);
    notice = `${solved} of ${EXERCISES.length} solved; here is exercise ${pad2(chosen.number)}, the first not solved yet. Press l for the list.`;
    if (!interactive) say(`${renderProgress((e) => progress.isSolved(e), chosen, process.stdout.columns)}\n`);
  }

  // Loaded here, not at the top: they bring Vitest and TypeScript, which hint, diff and reset do not need.
  const { Session } = await import('./session.ts');
  const { PreflightError } = await import('./services.ts');
  let session: Awaited<ReturnType<typeof Session.open>>;
  try {
    if (interactive) say(dim('Looking for Redis and a mail catcher…'));
    session = await Session.open(targetFromEnv(), chosen, { rerun: interactive });
  } catch (err) {
    if (err instanceof PreflightError) return fail(`Before the check can run:\n${err.message}`, 2);
    throw err;
  }
  try {
    if (interactive) {
      say(dim(session.services.description.join('\n')));
      const { watchExercise } = await import('./watch.ts');
      await watchExercise(session, chosen, { manual: Boolean(opts.manual), notice });
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

async function reset(exercise: Exercise, yes: boolean): Promise<number> {
  const changed = changedFiles(exercise);
  if (changed.length === 0) return say(`Exercise ${pad2(exercise.number)}'s files are already the starters.`);
  // In a terminal, ask first; a script (or --yes) goes ahead: the files are kept as a backup either way.
  if (!yes && process.stdin.isTTY && process.stdout.isTTY) {
    const question = [
      `This puts the starter files of exercise ${pad2(exercise.number)} back:`,
      ...changed.map((file) => `  ${file}`),
      `Your versions go to ${relative(ROOT, BACKUPS)}/${exercise.slug}/, and the exercise counts as not solved again.`,
      'Reset? [y/N] ',
    ].join('\n');
    if (!(await confirm(question))) return say('Nothing was changed.');
  }
  const { backup, restored } = resetExercise(exercise);
  new Progress().forgetSolved(exercise);
  const lines = [green(`Exercise ${pad2(exercise.number)} is back to its starter files:`), ...restored.map((file) => `  ${file}`)];
  if (backup) lines.push('', `Your versions are kept in ${backup}/`);
  return say(lines.join('\n'));
}

/** confirm asks a yes/no question on the terminal; only y or yes is a yes. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
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
