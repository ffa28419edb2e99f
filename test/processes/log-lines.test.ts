import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.ts';

// The logger writes JSON lines in buffered batches (src/log-flush.ts), and
// pretty lines from a worker thread (src/logger.ts). Here a process logs a
// burst of lines and ends at once, in each of the ways a process ends, while
// lines are surely still buffered: every line must come out, in order, and
// the last one must say why the process ended. A lone line must not wait for
// the buffer to fill, and a reader that stops reading must not stop the logger.

const FIXTURE = fileURLToPath(new URL('../support/fixtures/log-burst.ts', import.meta.url));
/** Far more than the buffer holds, and more than one pipe's worth (64 KB). */
const LINES = 20_000;
/** How soon a line logged by an idle process must show: generous, next to the 100 ms flush. */
const SHOWN_WITHIN_MS = 2_000;

const FORMATS = {
  JSON: { LOG_PRETTY: 'false' },
  pretty: { LOG_PRETTY: 'true' },
} as const;
type Format = keyof typeof FORMATS;

const running = new Set<ReturnType<typeof spawn>>();
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

/**
 * Runs the fixture piped, as npm start and CI run the apps; stdout and stderr
 * apart. With `reading: false`, stdout is not read until readStdout().
 */
function burst(format: Format, end: string, { reading = true } = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, ...FORMATS[format], END: end, LINES: String(LINES), LOG_LEVEL: 'info', FORCE_COLOR: '0', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  const readStdout = () => child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  if (reading) readStdout();
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  return { stdout: () => stdout, stderr: () => stderr, closed, readStdout, kill: (signal: NodeJS.Signals) => child.kill(signal) };
}

/** The i of each "line" line, in the order they came, and the messages of the others. */
function parse(format: Format, stdout: string): { indexes: number[]; others: string[] } {
  const indexes: number[] = [];
  const others: string[] = [];
  for (const line of stdout.split('\n').filter(Boolean)) {
    if (format === 'JSON') {
      const { msg, i, level } = JSON.parse(line) as { msg: string; i?: number; level: number };
      if (msg === 'line') indexes.push(i!);
      else others.push(`${level} ${msg}`);
    } else {
      // [03:22:30.496] INFO (log-burst): line {"i":0}
      const match = /^\[[\d:.]+\] (\w+) \(log-burst\): (.*)$/.exec(line);
      if (!match) continue; // an error's stack, printed below its line
      const [, level, text] = match as unknown as [string, string, string];
      const index = /^line \{"i":(\d+)\}$/.exec(text);
      if (index) indexes.push(Number(index[1]));
      else others.push(`${level} ${text.trimEnd()}`); // an error's stack follows after a space
    }
  }
  return { indexes, others };
}

/** "0..n-1 in order", or where the lines that came first go wrong. */
function story(indexes: number[], n: number): string {
  for (let at = 0; at < indexes.length; at++) {
    if (indexes[at] !== at) return `line ${at} was ${indexes[at]} (${indexes.length} lines came)`;
  }
  if (indexes.length === n) return `0..${n - 1} in order`;
  return indexes.length === 0 ? `none came, of ${n}` : `only 0..${indexes.length - 1} came, of ${n}`;
}

const JSON_LEVEL = { INFO: 30, FATAL: 60 } as const;
/** How each ending ends: its exit code, and the message of the last line (pretty lines say the level's name). */
const ENDINGS = [
  { end: 'sigint', code: 0, level: 'INFO', last: 'SIGINT: shutting down' },
  { end: 'sigterm', code: 0, level: 'INFO', last: 'SIGTERM: shutting down' },
  { end: 'exit', code: 3, level: 'INFO', last: 'exiting with 3' },
  { end: 'throw', code: 1, level: 'FATAL', last: 'uncaught exception: exiting' },
  { end: 'reject', code: 1, level: 'FATAL', last: 'unhandled rejection: exiting' },
] as const;

describe.each(Object.keys(FORMATS) as Format[])('%s log lines', (format) => {
  it.each(ENDINGS)('all come out, in order, when the process ends by $end', async ({ end, code, level, last }) => {
    const child = burst(format, end);
    const [exitCode] = await child.closed;
    const { indexes, others } = parse(format, child.stdout());

    expect(exitCode, child.stderr()).toBe(code);
    expect(story(indexes, LINES)).toBe(`0..${LINES - 1} in order`);
    expect(others).toEqual([`${format === 'JSON' ? JSON_LEVEL[level] : level} ${last}`]);
  });
});

describe('a SIGTERM before the process has a handler of its own', () => {
  it('still ends it by the signal, and every JSON line comes out first', async () => {
    const child = burst('JSON', 'sigterm-early');
    const [exitCode, signal] = await child.closed;
    const { indexes, others } = parse('JSON', child.stdout());

    expect({ exitCode, signal }, child.stderr()).toEqual({ exitCode: null, signal: 'SIGTERM' });
    expect(story(indexes, LINES)).toBe(`0..${LINES - 1} in order`);
    expect(others).toEqual([]);
  });
});

describe('a JSON line logged by an idle process', () => {
  it(`shows within ${SHOWN_WITHIN_MS} ms, though the buffer is far from full`, async () => {
    const child = burst('JSON', 'idle');
    await waitUntil('the fixture to log its line', () => child.stderr().includes('logged'));
    // The process stays up and idle: only the logger's own timer can write the line now.
    await waitUntil('the line on stdout', () => child.stdout().includes('alone'), SHOWN_WITHIN_MS);
  });
});

describe('a reader that stops reading', () => {
  it('does not hold the logger up, and gets every line once it reads again', async () => {
    const child = burst('JSON', 'wait', { reading: false });
    // 20,000 lines are 2 MB: the pipe is full long before they are all logged.
    await waitUntil('the fixture to have logged its lines', () => child.stderr().includes('logged'));
    child.readStdout();
    child.kill('SIGTERM');
    const [exitCode] = await child.closed;
    const { indexes, others } = parse('JSON', child.stdout());

    expect(exitCode, child.stderr()).toBe(0);
    expect(story(indexes, LINES)).toBe(`0..${LINES - 1} in order`);
    expect(others).toEqual(['30 SIGTERM: shutting down']);
  });
});
