import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from '../course.ts';
import type { Exercise } from '../manifest.ts';

/** PROGRESS_FILE keeps what the learner has done. It is git-ignored: each learner has their own. */
export const PROGRESS_FILE = join(ROOT, '.workshop', 'progress.json');

interface ProgressData {
  /** slug -> when the exercise first passed its check. */
  solved: Record<string, string>;
  /** slug -> how many hints the learner has seen. */
  hintsSeen: Record<string, number>;
}

/**
 * Progress reads and writes the progress file. Several commands may change it
 * at once (a watch screen, `npm run reset` in another terminal), so each
 * change reads the file again first, and reload() picks up theirs.
 */
export class Progress {
  #data: ProgressData;

  constructor(readonly file = process.env.WORKSHOP_PROGRESS_FILE || PROGRESS_FILE) {
    this.#data = load(file);
  }

  /** reload reads the file again, for a change made by another command. */
  reload(): void {
    this.#data = load(this.file);
  }

  isSolved(exercise: Exercise): boolean {
    return exercise.slug in this.#data.solved;
  }

  solvedCount(exercises: readonly Exercise[]): number {
    return exercises.filter((exercise) => this.isSolved(exercise)).length;
  }

  markSolved(exercise: Exercise): void {
    this.#change((data) => {
      data.solved[exercise.slug] ??= new Date().toISOString();
    });
  }

  /** forgetSolved drops the exercise's solved mark, as after a reset. The hints seen stay seen. */
  forgetSolved(exercise: Exercise): void {
    this.#change((data) => {
      delete data.solved[exercise.slug];
    });
  }

  hintsSeen(exercise: Exercise): number {
    return this.#data.hintsSeen[exercise.slug] ?? 0;
  }

  /** seeHint records that one more hint was shown and returns how many have been, never more than there are. */
  seeHint(exercise: Exercise): number {
    this.#change((data) => {
      data.hintsSeen[exercise.slug] = Math.min((data.hintsSeen[exercise.slug] ?? 0) + 1, exercise.hints.length);
    });
    return this.hintsSeen(exercise);
  }

  /** #change applies a change to the file as it is now, not to what this process read earlier. */
  #change(apply: (data: ProgressData) => void): void {
    const data = load(this.file);
    const before = JSON.stringify(data);
    apply(data);
    this.#data = data;
    if (JSON.stringify(data) === before) return;
    mkdirSync(dirname(this.file), { recursive: true });
    // Write then rename, so a Ctrl-C never leaves half a file.
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(data, null, 2)}\n`);
    renameSync(temp, this.file);
  }
}

function load(file: string): ProgressData {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<ProgressData>;
    return { solved: { ...data.solved }, hintsSeen: { ...data.hintsSeen } };
  } catch {
    // No file yet, or one we cannot read: start afresh rather than fail.
    return { solved: {}, hintsSeen: {} };
  }
}
