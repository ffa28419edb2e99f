import { existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';

/**
 * Overlay is an exercise folder laid over src/: a file in `dir` takes the
 * place of the file at the same path under `src`. Both are absolute paths.
 */
export interface Overlay {
  dir: string;
  src: string;
}

/** isInside tells whether `path` is `dir` or somewhere below it. */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * importerFor says where to resolve a relative import from. An exercise file
 * holds the same imports as its src/ twin (`./defaults.ts`), but its folder
 * holds only the files the learner edits. So when the import finds no file
 * beside the exercise file, it is resolved from the twin's place in src/.
 */
export function importerFor(overlay: Overlay, specifier: string, importer: string): string {
  if (!specifier.startsWith('.') || !isInside(overlay.dir, importer)) return importer;
  if (existsSync(resolve(dirname(importer), specifier))) return importer;
  return resolve(overlay.src, relative(overlay.dir, importer));
}

/** overlaid returns the exercise's file for a file of src/ when the exercise has one, else the file itself. */
export function overlaid(overlay: Overlay, path: string): string {
  if (!isInside(overlay.src, path)) return path;
  const twin = resolve(overlay.dir, relative(overlay.src, path));
  return existsSync(twin) ? twin : path;
}
