import { spawn, type SpawnOptions, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binaryOnPath, isExecutableFile } from './on-path.ts';

/**
 * The line that tells the watcher its binary exited on its own, so there is
 * nothing left to stop.
 */
const RELEASE = '\n';

/**
 * spawnTethered runs a binary as child_process.spawn does, and returns its
 * ChildProcess, but ties the binary's life to this process: when this process
 * dies, however it dies (SIGKILL included, when no 'exit' handler runs), the
 * binary gets SIGTERM. On Windows it is a plain spawn.
 *
 * How: `sh` starts a watcher in the background, then execs the binary, so
 * child.pid is the binary's own. The watcher holds the read end of one more
 * pipe, which only this process writes to, and blocks reading it. When this
 * process dies, the pipe closes without a line and the watcher sends SIGTERM
 * to the binary. When the binary exits first, this process writes the watcher
 * a line, and it exits without killing anything, since the binary's pid may
 * already belong to another process. The binary's stdio are the ones asked
 * for: a binary that reads stdin (redis-server's `-`) still gets it.
 *
 * The `shell` and `argv0` options are not supported: they would apply to the
 * `sh` in between. A binary that cannot be found is spawned as is, so that
 * it fails as spawn fails, with an 'error' event (ENOENT).
 */
export const spawnTethered = ((command: string, argsOrOptions?: readonly string[] | SpawnOptions, maybeOptions?: SpawnOptions) => {
  const [args, options] = isArgs(argsOrOptions) ? [argsOrOptions, maybeOptions ?? {}] : [[], argsOrOptions ?? {}];
  if (options.shell || options.argv0) throw new TypeError('spawnTethered runs a binary: the shell and argv0 options are not supported');
  if (process.platform === 'win32' || !canRun(command, options)) return spawn(command, args, options);

  const stdio = stdioArray(options.stdio);
  const fd = stdio.length; // the watcher's pipe goes after the binary's own
  if (fd > 9) throw new TypeError('spawnTethered: the shell can only hand on 9 stdio entries'); // sh redirects fds 0-9
  // `read` fails on end-of-file without a line: this process is gone. The
  // watcher's stdio go to /dev/null, so it holds none of the binary's pipes open.
  const watcher = `{ read -r line <&${fd} || kill -TERM $$; } </dev/null >/dev/null 2>&1 &`;
  const child = spawn('/bin/sh', ['-c', `${watcher} exec "$@" ${fd}<&-`, 'sh', command, ...args], {
    ...options,
    stdio: [...stdio, 'pipe'],
  });

  const tether = child.stdio[fd] as Socket | null;
  if (tether) {
    tether.on('error', () => {}); // the watcher may already be gone (killed with the binary's group)
    tether.resume(); // read it, so its end (the watcher gone) closes it and 'close' can fire
    child.once('exit', () => tether.end(RELEASE));
  }
  return child;
}) as typeof spawn;

// Array.isArray does not narrow a readonly array.
function isArgs(value: readonly string[] | SpawnOptions | undefined): value is readonly string[] {
  return Array.isArray(value);
}

/** stdioArray spells the stdio option out as an array of at least three entries, as spawn reads it. */
function stdioArray(stdio: StdioOptions | undefined): Exclude<StdioOptions, string> {
  if (stdio === undefined || typeof stdio === 'string') return Array(3).fill(stdio ?? 'pipe');
  const entries = [...stdio];
  while (entries.length < 3) entries.push(undefined);
  return entries;
}

/** canRun tells whether `sh` would find the command: on PATH or, for a path, from the child's cwd. */
function canRun(command: string, options: SpawnOptions): boolean {
  if (!command.includes('/')) return binaryOnPath(command, (options.env ?? process.env).PATH) !== undefined;
  const cwd = typeof options.cwd === 'object' ? fileURLToPath(options.cwd) : (options.cwd ?? '');
  return isExecutableFile(resolve(cwd, command));
}
