import { relative } from 'node:path';
import { editedFiles, exerciseDir, pad2, ROOT, type Target } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';
import { bold, colour, cyan, dim, green, indent, red, yellow } from './style.ts';
import { checkCounts, NOT_RUN_YET, passed, TODO_NOT_DONE, type Failure, type Verdict } from '../shared/verdict.ts';

/** FOLD_AFTER: on the watch screen, the failing checks after this many show their first line until the learner unfolds them. */
export const FOLD_AFTER = 2;

export interface VerdictOptions {
  hintsSeen: number;
  target?: Target;
  /** The watch screen: keys instead of commands, and long verdicts folded. */
  interactive?: boolean;
  /** Show every failing check in full, even on the watch screen. */
  unfold?: boolean;
  /** The exercises not solved yet, besides this one: after the last exercise, they are what is left. */
  open?: readonly Exercise[];
}

/**
 * renderVerdict is the verdict as the learner reads it. Each failing check
 * shows its message, expected and received, the learner's own line, the
 * line of the check, and the evidence: the job in Redis, the log, the inbox.
 * On the watch screen, the failing checks after the first FOLD_AFTER show
 * their first line, and `f` unfolds them.
 */
export function renderVerdict(verdict: Verdict, opts: VerdictOptions): string {
  const { exercise } = verdict;
  const ok = passed(verdict);
  const { total, failing } = checkCounts(verdict);
  const out: string[] = [];

  const status = ok
    ? green(`✓ all ${total} checks pass`)
    : verdict.tests.length === 0
      ? red('✗ the check could not run')
      : red(`✗ ${failing} of ${total} checks ${failing === 1 ? 'fails' : 'fail'}`);
  out.push(`${bold(`Exercise ${pad2(exercise.number)} · ${exercise.title}`)}   ${status}   ${dim(`${(verdict.durationMs / 1000).toFixed(1)} s`)}`);
  const dir = relative(ROOT, exerciseDir(exercise, opts.target));
  out.push(dim(`${opts.target === 'solutions' ? 'Checking the solution' : 'Your files'}: ${editedFiles(exercise).map((file) => `${dir}/${file}`).join(', ')}`));
  out.push('');

  let detailed = 0;
  let folded = 0;
  const fold = opts.interactive && !opts.unfold;

  if (verdict.typeProblems.length === 0) {
    out.push(`${green('✓')} types: no errors in your files`);
  } else {
    detailed++;
    out.push(`${red('✗')} ${bold(`types: ${verdict.typeProblems.length} error${verdict.typeProblems.length === 1 ? '' : 's'} in your files`)}`);
    for (const problem of verdict.typeProblems) {
      out.push(indent(`${cyan(problem.where)} ${problem.message}\n${dim(problem.excerpt)}`, '    '));
    }
  }

  for (const error of verdict.errors) {
    out.push(`${red('✗')} the check could not run:`);
    out.push(renderFailure(error));
  }

  const todosShown = new Set<string>();
  let waitingShown = false;
  for (const test of verdict.tests) {
    if (test.state === 'passed') {
      out.push(`${green('✓')} ${test.name}`);
      continue;
    }
    out.push(`${red('✗')} ${bold(test.name)}`);
    // A gap left open fails every check that reaches it: say what is missing once, then name it.
    const todo = test.failures.map((f) => TODO_NOT_DONE.exec(f.message)).find(Boolean);
    if (todo) {
      const first = !todosShown.has(todo[1]!);
      todosShown.add(todo[1]!);
      out.push(indent(yellow(first && todo[2] ? `TODO(${todo[1]}) is not done yet: ${todo[2]}` : `TODO(${todo[1]}) is not done yet${first ? '' : ' (as above)'}`), '    '));
      const where = test.failures[0]?.frames.find((frame) => !frame.startsWith('checked at'));
      if (first && where) out.push(indent(dim(`at ${where}`), '    '));
      continue;
    }
    // An end-to-end check that waits for the checks above it: say why once, then briefly.
    const waiting = test.failures.find((f) => f.message.startsWith(NOT_RUN_YET));
    if (waiting) {
      out.push(indent(dim(waitingShown ? `${NOT_RUN_YET}, as above.` : waiting.message), '    '));
      waitingShown = true;
      continue;
    }
    if (test.state === 'skipped') {
      out.push(indent(dim('not run: the check was stopped before it'), '    '));
      continue;
    }
    if (fold && detailed >= FOLD_AFTER) {
      folded++;
      out.push(indent(dim(test.failures[0]?.message.trim().split('\n')[0] ?? ''), '    '));
      continue;
    }
    detailed++;
    for (const failure of test.failures) out.push(renderFailure(failure));
    for (const evidence of test.evidence) {
      out.push(indent(`${yellow(`┌ ${evidence.title}`)}\n${indent(evidence.text, `${yellow('│')} `)}`, '    '));
    }
  }

  out.push('');
  if (folded > 0) {
    out.push(cyan(`${folded} more failing check${folded === 1 ? ' shows' : 's show'} only a first line: press f to see ${folded === 1 ? 'it' : 'them'} in full.`));
  }
  if (ok) {
    out.push(green(bold('Well done: this exercise passes.')));
    out.push(whatNext(exercise, opts));
  } else {
    const left = exercise.hints.length - opts.hintsSeen;
    const diff = opts.interactive ? 'press d to compare your files with the solution' : `\`npm run diff ${exercise.number}\` compares your files with the solution`;
    const more = opts.interactive ? `press h for a hint (${opts.hintsSeen} of ${exercise.hints.length} seen)` : `run \`npm run hint ${exercise.number}\` for a hint (${opts.hintsSeen} of ${exercise.hints.length} seen)`;
    const hint = left > 0 ? more : `you have seen every hint; ${diff}`;
    out.push(`Stuck? ${hint}.`);
  }
  return colour(out.join('\n'));
}

/** whatNext says where to go after a pass: the next exercise, or what is still open after the last. */
function whatNext(exercise: Exercise, opts: VerdictOptions): string {
  const next = EXERCISES.find((e) => e.number === exercise.number + 1);
  const how = opts.interactive ? 'Press n, or run' : 'Run';
  if (next) return `Next: exercise ${pad2(next.number)} · ${next.title}. ${how} \`npm run exercise ${next.number}\`.`;
  const open = (opts.open ?? []).filter((e) => e !== exercise);
  if (open.length === 0) return 'That was the last exercise, and every exercise is solved. Congratulations!';
  const list = open.map((e) => pad2(e.number)).join(', ');
  return `That was the last exercise. Still open: ${list}. ${opts.interactive ? 'Press l to pick one, or run' : 'Run'} \`npm run exercise ${open[0]!.number}\`.`;
}

function renderFailure(failure: Failure): string {
  const lines = [failure.message.trim()];
  if (failure.diff) lines.push(failure.diff.trim());
  for (const frame of failure.frames) lines.push(dim(frame.startsWith('checked at') ? frame : `at ${frame}`));
  return indent(lines.join('\n'), '    ');
}

/** renderProgress is the list of exercises with ✓ or ○ and a bar. */
export function renderProgress(isSolved: (exercise: Exercise) => boolean, current?: Exercise, width = 100): string {
  const solved = EXERCISES.filter(isSolved).length;
  const bar = 30;
  const filled = Math.round((solved / EXERCISES.length) * bar);
  const out = [
    bold('Background jobs in TypeScript: the workshop'),
    `${green('█'.repeat(filled))}${dim('░'.repeat(bar - filled))} ${solved} of ${EXERCISES.length} exercises solved`,
    '',
  ];
  for (const exercise of EXERCISES) {
    const mark = isSolved(exercise) ? green('✓') : dim('○');
    const here = exercise === current ? ' ← you are here' : '';
    const head = `${pad2(exercise.number)}  ${exercise.title.padEnd(30)} `;
    // The summary gives way to the terminal's width; the title never does.
    const room = Math.max(0, width - 2 - head.length - here.length);
    const summary = exercise.summary.length > room ? `${exercise.summary.slice(0, Math.max(0, room - 1))}…` : exercise.summary;
    out.push(`${mark} ${head}${dim(room > 8 ? summary : '')}${cyan(here)}`);
  }
  return colour(out.join('\n'));
}

/**
 * renderHints shows the first `shown` hints of an exercise, and what to do
 * next: in the watch screen a key, on the command line a command.
 */
export function renderHints(exercise: Exercise, shown: number, opts: { interactive: boolean }): string {
  if (exercise.hints.length === 0) return colour(yellow(`Exercise ${pad2(exercise.number)} has no hints.`));
  const lines = exercise.hints.slice(0, shown).map((text, i) => `${yellow(`Hint ${i + 1} of ${exercise.hints.length}:`)} ${text}`);
  if (shown >= exercise.hints.length) {
    lines.push(dim(`That is every hint. ${opts.interactive ? 'd shows' : `\`npm run diff ${exercise.number}\` shows`} the difference with the solution.`));
  } else if (!opts.interactive) {
    lines.push(dim(`Run \`npm run hint ${exercise.number}\` again for the next one.`));
  }
  return colour(lines.join(opts.interactive ? '\n' : '\n\n'));
}
