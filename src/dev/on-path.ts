import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** binaryOnPath finds the executable `name` on PATH, as a shell would, or returns undefined. */
export function binaryOnPath(name: string, path = process.env.PATH): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** isExecutableFile tells whether path is a file that this process may run. */
export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
