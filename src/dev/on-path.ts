import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** binaryOnPath finds the executable `name` on PATH, as a shell would, or returns undefined. */
export function binaryOnPath(name: string, path = process.env.PATH): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}
