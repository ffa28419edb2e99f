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

/** Progress reads and writes the progress file. Each change is written at once. */
export class Progress {
  #data: ProgressData;

  constructor(private readonly file = process.env.WORKSHOP_PROGRESS_FILE || PROGRESS_FILE) {
    this.#data = load(file);
  }

  isSolved(exercise: Exercise): boolean {
    return exercise.slug in this.#data.solved;
  }

  markSolved(exercise: Exercise): void {
    if (this.isSolved(exercise)) return;
    this.#data.solved[exercise.slug] = new Date().toISOString();
    this.#save();
  }

  /** forget drops the exercise's solved mark and hint count, as after a reset. */
  forget(exercise: Exercise): void {
    delete this.#data.solved[exercise.slug];
    delete this.#data.hintsSeen[exercise.slug];
    this.#save();
  }

  hintsSeen(exercise: Exercise): number {
    return this.#data.hintsSeen[exercise.slug] ?? 0;
  }

  /** seeHint records that one more hint was shown and returns how many have been, never more than there are. */
  seeHint(exercise: Exercise): number {
    const seen = Math.min(this.hintsSeen(exercise) + 1, exercise.hints.length);
    this.#data.hintsSeen[exercise.slug] = seen;
    this.#save();
    return seen;
  }

  #save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    // Write then rename, so a Ctrl-C never leaves half a file.
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(this.#data, null, 2)}\n`);
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
