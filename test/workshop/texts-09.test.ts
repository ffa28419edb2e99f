import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RETRY } from '../../src/jobs/defaults.ts';
import { StorageUnavailableError, Uploads } from '../../src/storage/uploads.ts';

// Exercise 09's README quotes what the worker logs while storage is down, with
// the numbers that answer its prediction left out. Its suite checks the log
// lines through a real worker; these tests hold the rest to the code.

const README = readFileSync(new URL('../../exercises/09-quick-check/README.md', import.meta.url), 'utf8');
const SOLUTION_README = readFileSync(new URL('../../solutions/09-quick-check/README.md', import.meta.url), 'utf8');

describe('exercises/09-quick-check/README.md', () => {
  it('quotes the error a worker with the default UPLOADS_DIR meets while the folder is away', async () => {
    const error = await new Uploads('uploads-that-is-not-there').read('sample.png').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    const quoted = (error as Error).message.replace('uploads-that-is-not-there', 'uploads');
    expect(README).toContain(`error: "${quoted}"`);
  });

  it('leaves the number of attempts out of the log lines it quotes', () => {
    expect(README).not.toMatch(/attempts? \d+ of \d+|\d+ of \d+ attempts/);
  });
});

describe('solutions/09-quick-check/README.md', () => {
  it('gives the number of runs the worker logs', () => {
    const runs = DEFAULT_MAX_RETRY + 1;
    for (const [, said] of SOLUTION_README.matchAll(/attempt 1 of (\d+)/g)) expect(Number(said)).toBe(runs);
  });
});
