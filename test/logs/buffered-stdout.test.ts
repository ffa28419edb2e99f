import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BufferedStdout, LOG_BATCH_BYTES } from '../../src/log-flush.ts';

// BufferedStdout keeps lines as UTF-8 bytes in a batch of LOG_BATCH_BYTES.
// Here it writes to a file, which takes every write whole, so what comes out
// is exactly the bytes: each line, once, in order, whatever its characters
// and however it meets the edge of a batch. (A full pipe, a reader that
// stops and every way a process ends: test/processes/log-lines.test.ts.)

/** Writes the lines through a BufferedStdout into a file, flushes, and reads the file back. */
function throughBuffer(lines: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'buffered-stdout-')), 'out.log');
  const fd = openSync(path, 'w');
  try {
    const out = new BufferedStdout(fd);
    for (const line of lines) out.write(line);
    out.flushSync();
  } finally {
    closeSync(fd);
  }
  return readFileSync(path, 'utf8');
}

describe('BufferedStdout', () => {
  it('writes lines of two- to four-byte characters whole, across many batches', () => {
    const texts = ['pässwörd é', '日本語のログ', 'key 🔑 and 🚀', 'plain ascii'];
    // Lengths that do not divide the batch, so that lines meet its edge at every offset.
    const lines = Array.from({ length: 20_000 }, (_, i) => `${i} ${texts[i % texts.length]!.repeat(1 + (i % 7))}\n`);
    const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
    expect(bytes).toBeGreaterThan(5 * LOG_BATCH_BYTES);

    expect(throughBuffer(lines)).toBe(lines.join(''));
  });

  it('writes a line larger than a batch whole, in its place among the others', () => {
    const huge = `${'é'.repeat(LOG_BATCH_BYTES)}\n`; // twice the batch, in bytes
    const lines = ['first\n', huge, 'after the huge one\n', `${'x'.repeat(LOG_BATCH_BYTES / 4)}\n`, 'last\n'];

    expect(throughBuffer(lines)).toBe(lines.join(''));
  });
});
