import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { structuredPatch } from 'diff';
import { answerLines, isComment, MIN_ANSWER_CHARS, squash } from '../check/leaks.ts';
import { editedFiles, exerciseDir, pad2, ROOT } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';
import { starterContent } from '../shared/starters.ts';
import { cyan, dim, green, red } from './style.ts';

/** BACKUPS is where `npm run reset` keeps the files it replaces. Git-ignored, like the progress file. */
export const BACKUPS = join(ROOT, '.workshop', 'backups');

/** A comment line that starts a workshop marker: 🐨 what to do, 💰 a detail, 📜 the docs, 🦉 an aside. */
const MARKER = /^\s*\/\/\s*(🐨|💰|📜|🦉)/;
/** A comment line that carries on a marker's text: `//    more words`, indented under it. */
const MARKER_GOES_ON = /^\s*\/\/(\s{2,}\S|\s*$)/;

/**
 * withoutMarkers drops the starter's 🐨 💰 📜 🦉 comments from a file, each
 * with the indented lines that carry it on. It returns the lines kept and,
 * for each, its line number in the file.
 */
export function withoutMarkers(text: string): { lines: string[]; numbers: number[] } {
  const lines: string[] = [];
  const numbers: number[] = [];
  let inMarker = false;
  text.split('\n').forEach((line, i) => {
    if (MARKER.test(line)) inMarker = true;
    else if (!(inMarker && MARKER_GOES_ON.test(line))) inMarker = false;
    if (inMarker) return;
    lines.push(line);
    numbers.push(i + 1);
  });
  return { lines, numbers };
}

/**
 * diffWithSolution shows, file by file, where the learner's code differs from
 * the solution's (- lines are yours, + lines are the solution's). The
 * starter's 🐨 comments are left out, so only code shows; the line numbers
 * are those of the learner's file. What later exercises build is hidden.
 */
export function diffWithSolution(exercise: Exercise): string {
  const out: string[] = [];
  const later = laterAnswers(exercise);
  for (const file of editedFiles(exercise)) {
    const mine = join(exerciseDir(exercise), file);
    const theirs = join(exerciseDir(exercise, 'solutions'), file);
    const name = (path: string) => relative(ROOT, path);
    const a = withoutMarkers(existsSync(mine) ? readFileSync(mine, 'utf8') : '');
    const b = readFileSync(theirs, 'utf8');
    const patch = structuredPatch(name(mine), name(theirs), a.lines.join('\n'), b, 'yours', 'solution', { context: 3 });
    if (patch.hunks.length === 0) {
      out.push(green(`${name(mine)}: the same code as the solution`));
      continue;
    }
    out.push(dim(`--- ${name(mine)}\tyours`), dim(`+++ ${name(theirs)}\tsolution`));
    for (const hunk of patch.hunks) {
      // Number the learner's side as in their file, where the markers still are.
      const from = a.numbers[hunk.oldStart - 1] ?? hunk.oldStart;
      out.push(cyan(`@@ -${from},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`));
      for (const line of hideLaterCode(hunk.lines, later)) {
        if (typeof line !== 'string') out.push(dim(`+ ⋯ ${whoBuilds(line.builtIn)} this: hidden until then`));
        else out.push(line.startsWith('+') ? green(line) : line.startsWith('-') ? red(line) : dim(line));
      }
    }
  }
  return out.join('\n');
}

/**
 * laterAnswers maps each answer line of the exercises after `exercise`
 * (squashed, as leaks.ts compares them) to the exercise that builds it. The
 * solution's files are the finished app's, so they hold those answers too;
 * a line that several later exercises lack is built by the last of them.
 */
function laterAnswers(exercise: Exercise): Map<string, number> {
  const builtIn = new Map<string, number>();
  for (const later of EXERCISES.filter((e) => e.number > exercise.number)) {
    for (const line of answerLines(later)) builtIn.set(squash(line), later.number);
  }
  return builtIn;
}

/** goesWith: a solution line that follows later code goes with it when it is a comment or too short to be an answer of its own (`throw err;`, `}`). */
function goesWith(line: string): boolean {
  const code = line.slice(1);
  return line.startsWith('+') && (isComment(code) || squash(code).length < MIN_ANSWER_CHARS);
}

/**
 * hideLaterCode replaces, in a hunk's lines, each stretch of the solution's
 * lines that later exercises build with one placeholder: the diff shows this
 * exercise's answer, not the next ones'. A stretch runs from a later answer
 * line to the last one among the solution's lines around it, with the
 * comments and short lines that follow it.
 */
export function hideLaterCode(lines: string[], later: Map<string, number>): (string | { builtIn: number[] })[] {
  const builtIn = lines.map((line) => (line.startsWith('+') ? later.get(squash(line.slice(1))) : undefined));
  const out: (string | { builtIn: number[] })[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (builtIn[i] === undefined) {
      out.push(lines[i]!);
      continue;
    }
    let end = i;
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith('+'); j++) if (builtIn[j] !== undefined) end = j;
    while (end + 1 < lines.length && goesWith(lines[end + 1]!)) end++;
    const numbers = new Set(builtIn.slice(i, end + 1).filter((n): n is number => n !== undefined));
    out.push({ builtIn: [...numbers].sort((a, b) => a - b) });
    i = end;
  }
  return out;
}

/** whoBuilds: "exercise 10 builds", "exercises 08 and 10 build". */
function whoBuilds(numbers: number[]): string {
  const names = numbers.map(pad2);
  return names.length === 1 ? `exercise ${names[0]} builds` : `exercises ${names.slice(0, -1).join(', ')} and ${names.at(-1)} build`;
}

/** changedFiles lists the exercise's files that differ from their starters, relative to the repository. */
export function changedFiles(exercise: Exercise): string[] {
  return editedFiles(exercise)
    .filter((file) => {
      const path = join(exerciseDir(exercise), file);
      return !existsSync(path) || !readFileSync(path).equals(starterContent(exercise, file));
    })
    .map((file) => relative(ROOT, join(exerciseDir(exercise), file)));
}

/**
 * resetExercise puts the starter files back. Each file it replaces is first
 * copied to .workshop/backups/<exercise>/<time>/, which it returns.
 */
export function resetExercise(exercise: Exercise, now = new Date()): { backup: string; restored: string[] } {
  const backup = join(BACKUPS, exercise.slug, now.toISOString().replace(/[:.]/g, '-'));
  const restored: string[] = [];
  let backedUp = 0;
  // Read every starter first: if one cannot be had, nothing is touched.
  const starters = editedFiles(exercise).map((file) => ({ file, content: starterContent(exercise, file) }));
  for (const { file, content } of starters) {
    const path = join(exerciseDir(exercise), file);
    if (existsSync(path)) {
      if (readFileSync(path).equals(content)) continue;
      mkdirSync(dirname(join(backup, file)), { recursive: true });
      copyFileSync(path, join(backup, file));
      backedUp++;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    restored.push(relative(ROOT, path));
  }
  return { backup: backedUp > 0 ? relative(ROOT, backup) : '', restored };
}
