import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep, waitUntil } from '../support/wait.ts';

const FIXTURE = fileURLToPath(new URL('../support/fixtures/stop-with-parent.ts', import.meta.url));
/** How soon the fixture must exit once its channel is closed. */
const EXIT_WITHIN_MS = 5_000;
const children: ChildProcess[] = [];
afterAll(() => children.forEach((child) => child.kill('SIGKILL')));

/** Runs the fixture, with an IPC channel or without; its stdout is collected in output(). */
function start(channel: boolean, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, ...env },
    stdio: channel ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = Promise.race([
    once(child, 'exit'),
    sleep(EXIT_WITHIN_MS).then(() => Promise.reject(new Error(`the fixture still runs after ${EXIT_WITHIN_MS} ms:\n${output}`))),
  ]);
  exited.catch(() => {}); // awaited by the tests that expect an exit
  return { child, output: () => output, exited };
}

describe('stopWithParent', () => {
  it('takes the IPC channel closing, as when the parent dies, for a SIGTERM', async () => {
    const { child, output, exited } = start(true);
    await waitUntil('the fixture to be ready', () => output().includes('ready'));
    child.disconnect();
    expect(await exited).toEqual([0, null]);
    expect(output()).toContain('SIGTERM');
  });

  it('does so too when the channel closed before it was called', async () => {
    const { child, output, exited } = start(true, { DELAY_MS: '500' });
    child.disconnect();
    expect(await exited).toEqual([0, null]);
    expect(output()).toContain('SIGTERM');
  });

  it('does nothing in a process started without a channel', async () => {
    const { child, output } = start(false);
    await waitUntil('the fixture to be ready', () => output().includes('ready'));
    await sleep(300);
    expect(child.exitCode).toBeNull();
    expect(output()).not.toContain('SIGTERM');
  });
});
