import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { editedFiles, ROOT } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';

/**
 * STARTERS_LOCK records, for every file of every exercise as shipped, its git
 * blob id. `npm run reset` gets the starter back from git by that id, even
 * after the learner has committed their own version; `course:check` makes sure
 * the ids still match the files in exercises/.
 */
export const STARTERS_LOCK = join(ROOT, 'workshop', 'starters.lock.json');

/** Lock maps `NN-slug/path` to a git blob id. */
export type Lock = Record<string, string>;

/** blobId is what `git hash-object` prints for these bytes. */
export function blobId(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function lockKey(exercise: Exercise, file: string): string {
  return `${exercise.slug}/${file}`;
}

export function readLock(): Lock {
  return JSON.parse(readFileSync(STARTERS_LOCK, 'utf8')) as Lock;
}

/** currentLock computes the lock from the files in exercises/ now. */
export function currentLock(root = ROOT): Lock {
  const lock: Lock = {};
  for (const exercise of EXERCISES) {
    for (const file of editedFiles(exercise)) {
      const path = join(root, 'exercises', exercise.slug, file);
      if (existsSync(path)) lock[lockKey(exercise, file)] = blobId(readFileSync(path));
    }
  }
  return lock;
}

/** starterContent reads a starter back from git's object store, by its blob id. */
export function starterContent(exercise: Exercise, file: string, root = ROOT): Buffer {
  const id = readLock()[lockKey(exercise, file)];
  if (!id) throw new Error(`${lockKey(exercise, file)} is not in ${STARTERS_LOCK}`);
  try {
    return execFileSync('git', ['cat-file', 'blob', id], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  } catch {
    throw new Error(
      `The starter of ${lockKey(exercise, file)} is not in this folder's git history (blob ${id.slice(0, 12)}). ` +
        'Reset needs the workshop as a git clone; copy the file from a fresh clone instead.',
    );
  }
}
