import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { editedFiles, exerciseDir, ROOT } from '../course.ts';
import type { Exercise } from '../manifest.ts';
import { starterContent } from './starters.ts';
import { cyan, dim, green, red } from './style.ts';

/** BACKUPS is where `npm run reset` keeps the files it replaces. Git-ignored, like the progress file. */
export const BACKUPS = join(ROOT, '.workshop', 'backups');

/**
 * diffWithSolution shows, file by file, what the solution has that the
 * learner's file does not (- lines are yours, + lines are the solution's).
 */
export function diffWithSolution(exercise: Exercise): string {
  const out: string[] = [];
  for (const file of editedFiles(exercise)) {
    const mine = join(exerciseDir(exercise), file);
    const theirs = join(exerciseDir(exercise, 'solutions'), file);
    const a = existsSync(mine) ? readFileSync(mine, 'utf8') : '';
    const b = readFileSync(theirs, 'utf8');
    const name = (path: string) => relative(ROOT, path);
    if (a === b) {
      out.push(green(`${name(mine)}: the same as the solution`));
      continue;
    }
    const patch = createTwoFilesPatch(name(mine), name(theirs), a, b, 'yours', 'solution', { context: 3 });
    out.push(
      patch
        .split('\n')
        .slice(1) // the "=====" line
        .map((line) => (line.startsWith('+') ? green(line) : line.startsWith('-') ? red(line) : line.startsWith('@@') ? cyan(line) : dim(line)))
        .join('\n'),
    );
  }
  return out.join('\n');
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
