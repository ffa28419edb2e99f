// A copy of the app as it was before the benchmark's fixes, to run beside the
// current one in the same run: today's src/, with the files the fixes changed
// put back as they are in git's HEAD. It shares node_modules.
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../workshop/course.ts';

/** beforeTree builds the copy and returns its folder, and the files it put back. */
export async function beforeTree(files: string[]): Promise<{ dir: string; restored: string[] }> {
  const changed = execFileSync('git', ['diff', '--name-only', 'HEAD', '--', ...files], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  const dir = await mkdtemp(join(tmpdir(), 'bench-before-'));
  await cp(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json']) await cp(join(ROOT, file), join(dir, file));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  for (const file of changed) {
    await writeFile(join(dir, file), execFileSync('git', ['show', `HEAD:${file}`], { cwd: ROOT }));
  }
  return { dir, restored: changed };
}
