// Exercise 03's README quotes the lines the worker logs for a job with no
// handler. These tests hold the quotes to what the worker logs, as the
// verdict shows them.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ServeMux } from '../../src/jobs/mux.ts';
import { captureLog, formatLogLines } from '../support/course/log.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const README = readFileSync(new URL('../../exercises/03-first-handler/README.md', import.meta.url), 'utf8');

// One testbed (its own queues) per worker, so that no worker takes another's job.
const beds: ReturnType<typeof jobsTestbed>[] = [];
afterAll(() => Promise.all(beds.map((bed) => bed.cleanup())));

/** quotedLogLines lists the lines of the README's ```text blocks. */
function quotedLogLines(): string[] {
  return [...README.matchAll(/^```text\n([\s\S]*?)^```/gm)].flatMap((block) => block[1]!.split('\n').filter(Boolean));
}

/** asPattern reads a quoted line: its time stands for any time, N for a number and … for any text. */
function asPattern(line: string): RegExp {
  const escaped = line
    .replace(/^\d\d:\d\d:\d\d\.\d{3} /, '')
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\bN\b/g, '\\d+')
    .replace(/…/g, '.+');
  return new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${escaped}$`);
}

/** logFor runs one send_welcome job on a worker with `mux`, and returns the verdict's lines for it once `done` holds. */
async function logFor(mux: ServeMux, done: (lines: string[]) => boolean): Promise<string[]> {
  const bed = jobsTestbed('texts03');
  beds.push(bed);
  const log = captureLog();
  await bed.startServer(mux, { logger: log.logger });
  const { id } = await bed.client.enqueue('send_welcome', { to: 'ada@example.test', name: 'Ada' });
  const lines = () => formatLogLines(log.lines().filter((line) => line.includes(`"job":"${id}"`))).split('\n');
  return waitUntil(`the worker's lines for job ${id}`, () => done(lines()) && lines(), 5_000);
}

describe("exercise 03's README", () => {
  it('quotes three log lines: a start and a retry on the starter, and a dead job once TODO(3) is done', () => {
    expect(quotedLogLines().map((line) => line.split(' ').find((word) => /^[A-Z]+$/.test(word)))).toEqual(['INFO', 'WARN', 'ERROR']);
  });

  it("quotes the starter's lines as the worker logs them: the start, then a retry", async () => {
    // The starter's ServeMux throws a plain Error for a task with no handler: the same as this handler.
    const mux = new ServeMux();
    mux.handle('send_welcome', async () => {
      throw new Error('no handler for task "send_welcome"');
    });
    const lines = await logFor(mux, (got) => got.some((line) => line.includes('job failed')));
    const [started, failed] = quotedLogLines();
    expect(lines.some((line) => asPattern(started!).test(line)), `no line like "${started}" in:\n${lines.join('\n')}`).toBe(true);
    expect(lines.some((line) => asPattern(failed!).test(line)), `no line like "${failed}" in:\n${lines.join('\n')}`).toBe(true);
  });

  it('quotes the dead job as the worker logs it, with TODO(3) done', async () => {
    const lines = await logFor(new ServeMux(), (got) => got.some((line) => line.includes('job dead')));
    const dead = quotedLogLines()[2]!;
    expect(lines.some((line) => asPattern(dead).test(line)), `no line like "${dead}" in:\n${lines.join('\n')}`).toBe(true);
  });
});
