/**
 * npm run course:check: proves the course, as CI runs it.
 *
 * 1. The course hangs together: every exercise in the manifest has its starter,
 *    solution, README, hints, numbered gaps and suite; each solution is its src/
 *    file byte for byte; the starters lock is current; every `npm run` script,
 *    `workshop/run.ts` command, TypeScript block and link in the docs is real.
 * 2. Starters and solutions type-check (tsc --noEmit on the whole project).
 * 3. Every solution passes every test of its suite, and the suite starts every
 *    process the README tells the learner to run.
 * 4. Every starter fails every test of its suite, and none crashes.
 *
 * --write-lock rewrites workshop/starters.lock.json from exercises/ and stops.
 * --static runs step 1 alone, in a second or two: for authors, while writing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pad2, ROOT } from '../course.ts';
import { EXERCISES } from '../manifest.ts';
import { currentLock, STARTERS_LOCK } from '../cli/starters.ts';
import { runAllSuites, type SuiteResult } from '../cli/runner.ts';
import { bold, colour, dim, green, red } from '../cli/style.ts';
import { checkCountProblems, staticProblems, type Problem } from './static.ts';

const started = Date.now();
const problems: Problem[] = [];
const say = (text: string) => process.stdout.write(`${colour(text)}\n`);
const phase = (name: string) => say(`\n${bold(`▸ ${name}`)} ${dim(`(${((Date.now() - started) / 1000).toFixed(0)} s)`)}`);

if (process.argv.includes('--write-lock')) {
  writeFileSync(STARTERS_LOCK, `${JSON.stringify(currentLock(), null, 2)}\n`);
  say(`wrote ${STARTERS_LOCK}`);
  process.exit(0);
}

phase('the course hangs together');
const found = staticProblems();
problems.push(...found);
say(found.length === 0 ? green(`✓ ${EXERCISES.length} exercises: files, solutions = src/, READMEs, hints, gaps, lock, docs`) : red(`✗ ${found.length} problems`));

if (process.argv.includes('--static')) finish();

phase('starters and solutions type-check');
const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', ROOT], { encoding: 'utf8' });
if (tsc.status === 0) say(green('✓ tsc --noEmit'));
else problems.push({ where: 'tsc --noEmit', what: `fails:\n${tsc.stdout}${tsc.stderr}` });

phase('every solution passes its suite');
const record = join(mkdtempSync(join(tmpdir(), 'course-check-')), 'processes.jsonl');
process.env.COURSE_RECORD = record;
writeFileSync(record, '');
const solutions = await runAllSuites('solutions', EXERCISES);
for (const result of solutions) report(result, 'passed');
problems.push(...checkCountProblems(solutions));
const ran = readFileSync(record, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { exercise: number; process: string });
for (const exercise of EXERCISES) {
  for (const name of exercise.processes ?? []) {
    if (!ran.some((r) => r.exercise === exercise.number && r.process === name)) {
      problems.push({ where: `test/exercises/${exercise.slug}.test.ts`, what: `never starts the "${name}" process that the README runs (use startProcess('${name}', …))` });
    }
  }
}
rmSync(record, { force: true });
delete process.env.COURSE_RECORD;

phase('every starter fails its suite, test by test');
const starters = await runAllSuites('exercises', EXERCISES);
for (const result of starters) report(result, 'failed');

finish();

/** finish prints the outcome and exits: 0 when nothing is wrong. */
function finish(): never {
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (problems.length === 0) {
    say(`\n${green(bold(`course:check passed: ${EXERCISES.length} exercises, in ${seconds} s`))}`);
    process.exit(0);
  }
  say(`\n${red(bold(`course:check found ${problems.length} problem${problems.length === 1 ? '' : 's'} (${seconds} s):`))}`);
  for (const problem of problems) say(`${red('✗')} ${problem.where}: ${problem.what}`);
  process.exit(1);
}

/** report prints one exercise's line and records what is not as it should be. */
function report({ exercise, tests, errors }: SuiteResult, expected: 'passed' | 'failed'): void {
  const where = `${expected === 'passed' ? 'solutions' : 'exercises'}/${exercise.slug}`;
  const wrong = tests.filter((test) => test.state !== expected);
  const ok = tests.length > 0 && wrong.length === 0 && errors.length === 0;
  say(`${ok ? green('✓') : red('✗')} ${pad2(exercise.number)} ${exercise.title.padEnd(32)} ${dim(`${tests.length} tests ${expected}`)}`);
  if (tests.length === 0) problems.push({ where, what: 'its suite ran no test' });
  for (const error of errors) problems.push({ where, what: `crashed instead of failing a test: ${error.message}` });
  for (const test of wrong) {
    const why = test.failures[0]?.message.split('\n')[0];
    problems.push({ where, what: `"${test.name}" ${test.state}${expected === 'failed' ? ' on the untouched starter: it checks nothing the learner does' : `: ${why ?? ''}`}` });
  }
}
