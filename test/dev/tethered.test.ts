import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnTethered } from '../../src/dev/tethered.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { childrenOf, isRunning } from '../support/process-table.ts';
import { waitUntil } from '../support/wait.ts';

/** How soon a tethered binary must be gone once its parent is. */
const GONE_WITHIN_MS = 2_000;

const started: ChildProcess[] = [];
afterAll(async () => {
  for (const child of started) child.kill('SIGKILL');
  await stopAll();
});

/** Runs test/support/fixtures/tethered-parent.ts, which runs command with spawnTethered; resolves with both. */
async function parentOf(command: string, args: string[]) {
  const parent = spawnScript('test/support/fixtures/tethered-parent.ts', {}, 'tethered parent', [command, ...args]);
  const pid = Number(/tethered pid (\d+)/.exec(await parent.waitForOutput(/tethered pid \d+/))![1]);
  return { parent, pid };
}

/** The background `sh` that watches the binary's parent: the binary's child. */
function watcherOf(pid: number): Promise<number> {
  return waitUntil(`the watcher of ${pid}`, () => childrenOf(pid).find((p) => p.command.includes('read -r'))?.pid, 2_000);
}

describe('spawnTethered', () => {
  it('stops the binary, and its watcher, when the parent is SIGKILLed', async () => {
    const { parent, pid } = await parentOf('sleep', ['30']);
    const watcher = await watcherOf(pid);
    expect(isRunning(pid)).toBe(true);

    parent.kill('SIGKILL');
    await waitUntil('the tethered sleep to be gone', () => !isRunning(pid), GONE_WITHIN_MS);
    await waitUntil('its watcher to be gone', () => !isRunning(watcher), GONE_WITHIN_MS);
  });

  it('stops it with SIGTERM, so that it can shut down cleanly', async () => {
    const record = join(mkdtempSync(join(tmpdir(), 'tethered-')), 'signal');
    // `wait` returns at once on a trapped signal, where a foreground sleep would finish first.
    const script = 'trap \'echo TERM > "$0"; kill $!; exit 0\' TERM; sleep 30 & wait';
    const { parent, pid } = await parentOf('sh', ['-c', script, record]);
    await watcherOf(pid);

    parent.kill('SIGKILL');
    await waitUntil('the tethered script to be gone', () => !isRunning(pid), GONE_WITHIN_MS);
    expect(readFileSync(record, 'utf8')).toBe('TERM\n');
  });

  it('gives the binary its own pid and stdin', async () => {
    const child = spawnTethered('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
    started.push(child);
    await watcherOf(child.pid!);
    expect(childrenOf(process.pid).find((p) => p.pid === child.pid)?.command).toBe('cat');

    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdin.end('to the binary\n');
    expect(await once(child, 'close')).toEqual([0, null]);
    expect(output).toBe('to the binary\n');
  });

  it('on a normal stop, fires close and leaves no watcher behind', async () => {
    const child = spawnTethered('sleep', ['30']);
    started.push(child);
    const watcher = await watcherOf(child.pid!);

    child.kill('SIGTERM');
    expect(await within(GONE_WITHIN_MS, once(child, 'close'))).toEqual([null, 'SIGTERM']);
    await waitUntil('the watcher to be gone', () => !isRunning(watcher), GONE_WITHIN_MS);
  });

  it('when the binary exits on its own, fires close with its exit code and leaves no watcher behind', async () => {
    const child = spawnTethered('sh', ['-c', 'sleep 0.5; exit 3']);
    started.push(child);
    const watcher = await watcherOf(child.pid!);

    expect(await within(GONE_WITHIN_MS, once(child, 'close'))).toEqual([3, null]);
    await waitUntil('the watcher to be gone', () => !isRunning(watcher), GONE_WITHIN_MS);
  });

  it('fails on a missing binary as spawn does, with ENOENT', async () => {
    const child = spawnTethered('no-such-binary-on-path', ['x']);
    const [err] = (await once(child, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ENOENT');
  });
});

function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms)),
  ]);
}
