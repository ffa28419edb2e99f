import { relative } from 'node:path';
import { editedFiles, exerciseDir, pad2, ROOT } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';
import { bold, colour, cyan, dim, green, indent, red, yellow } from './style.ts';
import { passed, type Failure, type Verdict } from './verdict.ts';

const TODO_NOT_DONE = /^TODO\((\d+)\) is not done yet:?\s*(.*)/;

/** renderVerdict is the verdict as the learner reads it: this exercise only, failures first explained. */
export function renderVerdict(verdict: Verdict, opts: { hintsSeen: number }): string {
  const { exercise } = verdict;
  const ok = passed(verdict);
  const failing = verdict.tests.filter((test) => test.state !== 'passed').length;
  const out: string[] = [];

  const status = ok
    ? green(`✓ all ${verdict.tests.length} checks pass`)
    : verdict.tests.length === 0
      ? red('✗ the check could not run')
      : red(`✗ ${failing} of ${verdict.tests.length} checks ${failing === 1 ? 'fails' : 'fail'}`);
  out.push(`${bold(`Exercise ${pad2(exercise.number)} · ${exercise.title}`)}   ${status}   ${dim(`${(verdict.durationMs / 1000).toFixed(1)} s`)}`);
  const dir = relative(ROOT, exerciseDir(exercise));
  out.push(dim(`Your files: ${editedFiles(exercise).map((file) => `${dir}/${file}`).join(', ')}`));
  out.push('');

  if (verdict.typeProblems.length === 0) {
    out.push(`${green('✓')} types: no errors in your files`);
  } else {
    out.push(`${red('✗')} types: ${verdict.typeProblems.length} error${verdict.typeProblems.length === 1 ? '' : 's'} in your files`);
    for (const problem of verdict.typeProblems.slice(0, 5)) {
      out.push(indent(`${cyan(problem.where)} ${problem.message}\n${dim(problem.excerpt)}`, '    '));
    }
  }

  for (const error of verdict.errors) {
    out.push(`${red('✗')} the check could not run:`);
    out.push(renderFailure(error));
  }

  const todosShown = new Set<string>();
  for (const test of verdict.tests) {
    if (test.state === 'passed') {
      out.push(`${green('✓')} ${test.name}`);
      continue;
    }
    out.push(`${red('✗')} ${bold(test.name)}`);
    // A gap left open fails every check that reaches it: say so once, then briefly.
    const todo = test.failures.map((f) => TODO_NOT_DONE.exec(f.message)).find(Boolean);
    if (todo) {
      const first = !todosShown.has(todo[1]!);
      todosShown.add(todo[1]!);
      out.push(indent(yellow(`TODO(${todo[1]}) is not done yet${first && todo[2] ? `: ${todo[2]}` : ''}`), '    '));
      const where = test.failures[0]?.frames.find((frame) => !frame.startsWith('checked at'));
      if (first && where) out.push(indent(dim(`at ${where}`), '    '));
      continue;
    }
    for (const failure of test.failures) out.push(renderFailure(failure));
    for (const evidence of test.evidence) {
      out.push(indent(`${yellow(`┌ ${evidence.title}`)}\n${indent(evidence.text, `${yellow('│')} `)}`, '    '));
    }
  }

  out.push('');
  if (ok) {
    const next = EXERCISES.find((e) => e.number === exercise.number + 1);
    out.push(green(bold('Well done: this exercise passes.')));
    out.push(next ? `Next: exercise ${pad2(next.number)} · ${next.title}. Press n, or run \`npm run exercise ${next.number}\`.` : 'That was the last exercise. Congratulations!');
  } else {
    const left = exercise.hints.length - opts.hintsSeen;
    const hint = left > 0 ? `press h for a hint (${opts.hintsSeen} of ${exercise.hints.length} seen), or run \`npm run hint ${exercise.number}\`` : `you have seen every hint; \`npm run diff ${exercise.number}\` compares your files with the solution`;
    out.push(`Stuck? ${hint}.`);
  }
  return colour(out.join('\n'));
}

function renderFailure(failure: Failure): string {
  const lines = [failure.message.trim()];
  if (failure.diff) lines.push(failure.diff.trim());
  for (const frame of failure.frames) lines.push(dim(frame.startsWith('checked at') ? frame : `at ${frame}`));
  return indent(lines.join('\n'), '    ');
}

/** renderProgress is the list of exercises with ✓ or ○ and a bar. */
export function renderProgress(isSolved: (exercise: Exercise) => boolean, current?: Exercise): string {
  const solved = EXERCISES.filter(isSolved).length;
  const width = 30;
  const filled = Math.round((solved / EXERCISES.length) * width);
  const out = [
    bold('Background jobs in TypeScript: the workshop'),
    `${green('█'.repeat(filled))}${dim('░'.repeat(width - filled))} ${solved} of ${EXERCISES.length} exercises solved`,
    '',
  ];
  for (const exercise of EXERCISES) {
    const mark = isSolved(exercise) ? green('✓') : dim('○');
    const here = exercise === current ? cyan(' ← you are here') : '';
    out.push(`${mark} ${pad2(exercise.number)}  ${exercise.title.padEnd(30)} ${dim(exercise.summary)}${here}`);
  }
  return colour(out.join('\n'));
}
