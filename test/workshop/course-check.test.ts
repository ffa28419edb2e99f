// course:check's proof, phase by phase, on a made-up course whose suites are
// fakes: it must catch a starter that passes, a solution that fails, a crash,
// and a process the README runs that the suite never starts.
import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Target } from '../../workshop/course.ts';
import type { Exercise } from '../../workshop/manifest.ts';
import type { SuiteResult } from '../../workshop/check/run-suites.ts';
import type { TestOutcome } from '../../workshop/shared/verdict.ts';
import { proveCourse, type ProveDeps } from '../../workshop/check/prove.ts';

// No README in exercises/ has these slugs, so the README checks leave them alone.
const fake = (number: number, processes: Exercise['processes'] = []): Exercise => ({
  number,
  slug: `9${number}-made-up`,
  title: `Made up ${number}`,
  summary: '',
  files: [],
  processes,
  chapter: '',
  hints: [],
});

const test = (name: string, state: TestOutcome['state']): TestOutcome => ({ name, state, failures: state === 'failed' ? [{ message: `${name} failed`, frames: [] }] : [], evidence: [] });

/** deps builds a course of `exercises` whose suites give `results(target)`; startProcess is simulated with `started`. */
function deps(exercises: Exercise[], results: (target: Target) => SuiteResult[], started: { exercise: number; process: string }[] = []): ProveDeps & { printed: string[] } {
  const printed: string[] = [];
  return {
    exercises,
    printed,
    say: (text) => printed.push(text),
    staticProblems: () => [],
    typeCheck: () => undefined,
    runSuites: async (target) => {
      if (target === 'solutions') for (const line of started) appendFileSync(process.env.COURSE_RECORD!, `${JSON.stringify(line)}\n`);
      return results(target);
    },
  };
}

const outcome = (target: Target, states: Record<Target, TestOutcome['state']>) => [test('does the thing (TODO 1)', states[target])];

describe('course:check', () => {
  it('passes a course whose starters fail and whose solutions pass', async () => {
    const [a, b] = [fake(1), fake(2)];
    const d = deps([a, b], (target) => [a, b].map((exercise) => ({ exercise, tests: outcome(target, { solutions: 'passed', exercises: 'failed' }), errors: [] })));
    expect(await proveCourse(d)).toEqual([]);
    expect(d.printed.join('\n')).toContain('every starter fails its suite, test by test');
  });

  it('fails on a test that passes on the untouched starter', async () => {
    const a = fake(1);
    const d = deps([a], (target) => [{ exercise: a, tests: [...outcome(target, { solutions: 'passed', exercises: 'failed' }), test('checks nothing (TODO 2)', 'passed')], errors: [] }]);
    const problems = await proveCourse(d);
    expect(problems).toEqual([{ where: 'exercises/91-made-up', what: '"checks nothing (TODO 2)" passed on the untouched starter: it checks nothing the learner does' }]);
  });

  it('fails on a solution that fails a test, a suite that crashes or runs nothing, and a type error', async () => {
    const [a, b] = [fake(1), fake(2)];
    const d = deps([a, b], (target) =>
      target === 'solutions'
        ? [
            { exercise: a, tests: [test('does the thing (TODO 1)', 'failed')], errors: [] },
            { exercise: b, tests: [], errors: [{ message: 'Cannot find module', frames: [] }] },
          ]
        : [a, b].map((exercise) => ({ exercise, tests: [test('does the thing (TODO 1)', 'failed')], errors: [] })),
    );
    d.typeCheck = () => 'exercises/91-made-up/x.ts(1,1): error TS2322';
    const problems = (await proveCourse(d)).map((p) => `${p.where}: ${p.what}`);
    expect(problems).toEqual([
      'tsc --noEmit: fails:\nexercises/91-made-up/x.ts(1,1): error TS2322',
      'solutions/91-made-up: "does the thing (TODO 1)" failed: does the thing (TODO 1) failed',
      'solutions/92-made-up: its suite ran no test',
      'solutions/92-made-up: crashed instead of failing a test: Cannot find module',
    ]);
  });

  it("fails when a suite never starts a process that the exercise's README runs", async () => {
    const a = fake(4, ['worker', 'api']);
    const results = (target: Target) => [{ exercise: a, tests: outcome(target, { solutions: 'passed', exercises: 'failed' }), errors: [] }];
    const problems = await proveCourse(deps([a], results, [{ exercise: 4, process: 'worker' }]));
    expect(problems).toEqual([{ where: 'test/exercises/94-made-up.test.ts', what: 'never starts the "api" process that the README runs (use startProcess(\'api\', …))' }]);
  });

  it('reports what the static phase finds, and with --static stops there', async () => {
    const a = fake(1);
    let ran = 0;
    const d = deps([a], () => {
      ran++;
      return [];
    });
    d.staticProblems = () => [{ where: 'WORKSHOP.md:12', what: "gives away exercise 01's answer" }];
    expect(await proveCourse(d, { onlyStatic: true })).toEqual([{ where: 'WORKSHOP.md:12', what: "gives away exercise 01's answer" }]);
    expect(ran, 'no suite runs with --static').toBe(0);
  });

  it("fails when the starter's verdict answers the exercise's prediction, in a message or in its evidence", async () => {
    const a = { ...fake(1), spoilers: [/\bof 26\b/] };
    const spoiling: TestOutcome = {
      name: 'retries the job (TODO 2)',
      state: 'failed',
      failures: [{ message: 'the job should wait for its retry', frames: [] }],
      evidence: [{ title: 'the job in Redis', text: 'job 1: failed, attempts made 1 of 26' }],
    };
    const d = deps([a], (target) => [{ exercise: a, tests: target === 'solutions' ? [test('retries the job (TODO 2)', 'passed')] : [spoiling], errors: [] }]);
    expect(await proveCourse(d)).toEqual([
      { where: 'test/exercises/91-made-up.test.ts', what: '"retries the job (TODO 2)" shows "of 26" on the untouched starter, which answers its prediction (/\\bof 26\\b/)' },
    ]);

    spoiling.evidence = [];
    spoiling.failures = [{ message: 'TODO(1) is not done yet: answer the prediction first', frames: [] }];
    expect(await proveCourse(d)).toEqual([]);
  });
});
