import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importerFor, isInside, overlaid } from '../../workshop/overlay/resolve.ts';

// A src/ with two files, and an exercise folder that replaces one of them.
const root = mkdtempSync(join(tmpdir(), 'overlay-'));
const src = join(root, 'src');
const dir = join(root, 'exercises', '09-x');
for (const file of [join(src, 'jobs', 'client.ts'), join(src, 'jobs', 'tasks.ts'), join(dir, 'jobs', 'tasks.ts')]) {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, '');
}
const overlay = { dir, src };

describe('the exercise overlay', () => {
  it('swaps a src/ file for the exercise file of the same path, and keeps the others', () => {
    expect(overlaid(overlay, join(src, 'jobs', 'tasks.ts'))).toBe(join(dir, 'jobs', 'tasks.ts'));
    expect(overlaid(overlay, join(src, 'jobs', 'client.ts'))).toBe(join(src, 'jobs', 'client.ts'));
    expect(overlaid(overlay, join(root, 'elsewhere.ts'))).toBe(join(root, 'elsewhere.ts'));
  });

  it('resolves an exercise file\'s import of a file it lacks from its src/ twin\'s place', () => {
    const exerciseFile = join(dir, 'jobs', 'tasks.ts');
    expect(importerFor(overlay, './client.ts', exerciseFile)).toBe(join(src, 'jobs', 'tasks.ts'));
    expect(importerFor(overlay, '../config.ts', exerciseFile)).toBe(join(src, 'jobs', 'tasks.ts'));
  });

  it('leaves alone an import the exercise folder has, a bare package import, and any import from src/', () => {
    const exerciseFile = join(dir, 'jobs', 'other.ts');
    expect(importerFor(overlay, './tasks.ts', exerciseFile)).toBe(exerciseFile);
    expect(importerFor(overlay, 'bullmq', exerciseFile)).toBe(exerciseFile);
    expect(importerFor(overlay, './client.ts', join(src, 'jobs', 'tasks.ts'))).toBe(join(src, 'jobs', 'tasks.ts'));
  });

  it('isInside is true for the folder and below it only', () => {
    expect(isInside(src, src)).toBe(true);
    expect(isInside(src, join(src, 'a', 'b.ts'))).toBe(true);
    expect(isInside(src, join(root, 'src-other', 'b.ts'))).toBe(false);
    expect(isInside(src, root)).toBe(false);
  });
});
