import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pad2, ROOT, type Target } from '../course.ts';
import type { Exercise } from '../manifest.ts';
import type { SuiteResult } from './run-suites.ts';
import { bold, dim, green, red } from '../cli/style.ts';
import { checkCountProblems, staticProblems, type Problem } from './static.ts';

/** What proveCourse uses from the world; the tests give it fakes. */
export interface ProveDeps {
  exercises: readonly Exercise[];
  say(text: string): void;
  staticProblems(): Problem[];
  /** tsc --noEmit on the whole project: its output when it fails, else undefined. */
  typeCheck(): string | undefined;
  /** Runs every exercise's suite against a target. Each startProcess() call appends a line to COURSE_RECORD. */
  runSuites(target: Target, exercises: readonly Exercise[]): Promise<SuiteResult[]>;
}

/** The real world: the repository's files, tsc, and Vitest. */
export async function realDeps(exercises: readonly Exercise[]): Promise<ProveDeps> {
  const { runAllSuites } = await import('./run-suites.ts');
  return {
    exercises,
    say: (text) => process.stdout.write(`${text}\n`),
    staticProblems,
    typeCheck: () => {
      const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', ROOT], { encoding: 'utf8' });
      return tsc.status === 0 ? undefined : `${tsc.stdout}${tsc.stderr}`;
    },
    runSuites: runAllSuites,
  };
}

/**
 * proveCourse is course:check's proof, phase by phase; it returns what it
 * found wrong.
 * 1. The course hangs together (staticProblems: files, docs, leaks, lock).
 * 2. Starters and solutions type-check.
 * 3. Every solution passes every test of its suite, the suite starts every
 *    process the README runs, and each README's count of checks is right.
 * 4. Every starter fails every test of its suite, and none crashes: a test
 *    that passes on the untouched starter checks nothing the learner does.
 * With `onlyStatic`, phase 1 alone.
 */
export async function proveCourse(deps: ProveDeps, opts: { onlyStatic?: boolean; started?: number } = {}): Promise<Problem[]> {
  const started = opts.started ?? Date.now();
  const problems: Problem[] = [];
  const phase = (name: string) => deps.say(`\n${bold(`▸ ${name}`)} ${dim(`(${((Date.now() - started) / 1000).toFixed(0)} s)`)}`);

  phase('the course hangs together');
  const found = deps.staticProblems();
  problems.push(...found);
  deps.say(found.length === 0 ? green(`✓ ${deps.exercises.length} exercises: files, solutions = src/, READMEs, hints, gaps, lock, docs, no answer in the open`) : red(`✗ ${found.length} problems`));
  if (opts.onlyStatic) return problems;

  phase('starters and solutions type-check');
  const tsc = deps.typeCheck();
  if (tsc === undefined) deps.say(green('✓ tsc --noEmit'));
  else problems.push({ where: 'tsc --noEmit', what: `fails:\n${tsc}` });

  phase('every solution passes its suite');
  const record = join(mkdtempSync(join(tmpdir(), 'course-check-')), 'processes.jsonl');
  process.env.COURSE_RECORD = record;
  writeFileSync(record, '');
  try {
    const solutions = await deps.runSuites('solutions', deps.exercises);
    for (const result of solutions) problems.push(...judge(result, 'passed', deps.say));
    problems.push(...checkCountProblems(solutions));
    const ran = readFileSync(record, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { exercise: number; process: string });
    for (const exercise of deps.exercises) {
      for (const name of exercise.processes ?? []) {
        if (!ran.some((r) => r.exercise === exercise.number && r.process === name)) {
          problems.push({ where: `test/exercises/${exercise.slug}.test.ts`, what: `never starts the "${name}" process that the README runs (use startProcess('${name}', …))` });
        }
      }
    }
  } finally {
    rmSync(record, { force: true });
    delete process.env.COURSE_RECORD;
  }

  phase('every starter fails its suite, test by test');
  const starters = await deps.runSuites('exercises', deps.exercises);
  for (const result of starters) problems.push(...judge(result, 'failed', deps.say), ...verdictSpoilers(result));
  return problems;
}

/**
 * verdictSpoilers lists what a starter's verdict shows that answers the
 * exercise's prediction (its manifest `spoilers`): the first screen a learner
 * sees must not answer what the exercise asks them to predict.
 */
export function verdictSpoilers({ exercise, tests }: SuiteResult): Problem[] {
  const problems: Problem[] = [];
  for (const test of tests) {
    const shown = [...test.failures.flatMap((failure) => [failure.message, ...failure.frames]), ...test.evidence.map((e) => `${e.title}\n${e.text}`)].join('\n');
    for (const spoiler of exercise.spoilers ?? []) {
      const found = spoiler.exec(shown);
      if (found) problems.push({ where: `test/exercises/${exercise.slug}.test.ts`, what: `"${test.name}" shows "${found[0]}" on the untouched starter, which answers its prediction (${spoiler})` });
    }
  }
  return problems;
}

/** judge prints one exercise's line and returns what is not as it should be. */
export function judge({ exercise, tests, errors }: SuiteResult, expected: 'passed' | 'failed', say: (text: string) => void): Problem[] {
  const problems: Problem[] = [];
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
  return problems;
}
