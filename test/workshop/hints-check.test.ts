// The hint check of course:check, on a made-up exercise in a folder of its
// own: the code of its last hint must be its solution's code.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Exercise } from '../../workshop/manifest.ts';
import { codeSpans, hintProblems, isQuoted, looksLikeCode } from '../../workshop/check/hints.ts';

const SOLUTION = [
  'export async function later(task, payload, opts, delayMs) {',
  '  if (!Number.isFinite(delayMs) || delayMs < 0) {',
  '    throw new RangeError(`delay must be 0 or more ms, got ${delayMs}`);',
  '  }',
  '  // Every job goes through add().',
  '  return this.add(task, payload, opts, delayMs);',
  '}',
].join('\n');

const exercise = (hints: string[]): Exercise => ({
  number: 2,
  slug: '02-later',
  title: 'Later',
  summary: '',
  files: ['jobs/client.ts'],
  chapter: '',
  hints,
});

/** course writes the made-up exercise's solution to a folder of its own. */
function course(): string {
  const root = mkdtempSync(join(tmpdir(), 'hints-'));
  const path = join(root, 'solutions', '02-later', 'jobs', 'client.ts');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, SOLUTION);
  return root;
}

const found = (hints: string[]) => hintProblems(course(), [exercise(hints)]).map((p) => `${p.where}: ${p.what}`);

describe('the hint check', () => {
  it('reads code spans as Markdown does: a double-backtick span may hold backticks', () => {
    expect(codeSpans('Call `add()`, then ``throw new RangeError(`got ${delayMs}`);`` and `` `x` ``.')).toEqual(['add()', 'throw new RangeError(`got ${delayMs}`);', '`x`']);
    expect(codeSpans('an ` alone')).toEqual([]);
  });

  it('checks spans that look like code, and leaves names alone', () => {
    expect(['hostname', '26', "'update_inventory'", 'TODO'].filter(looksLikeCode)).toEqual([]);
    expect(['job.id', 'runsAtMost: 26', 'add()', 'const id = task;', 'a b'].every(looksLikeCode)).toBe(true);
  });

  it('passes a last hint that quotes its solution, lines joined with spaces, with … for skipped text', () => {
    expect(
      found([
        'Which delays can nobody wait?',
        'TODO(2): ``if (!Number.isFinite(delayMs) || delayMs < 0) { throw new RangeError(`delay must be 0 or more ms, got ${delayMs}`); }`` TODO(1): `} … return this.add(task, payload, opts, delayMs);`, then `payload` and `delayMs`.',
      ]),
    ).toEqual([]);
  });

  it('fails on a last hint whose code drifted from the solution, naming the hint and the span', () => {
    expect(found(['Which delays can nobody wait?', 'TODO(1): `return this.add(task, payload, delayMs);` TODO(2): `if (delayMs < 0) throw new RangeError(\'negative\');`'])).toEqual([
      'workshop/manifest.ts (hint 2.2): `return this.add(task, payload, delayMs);` is not code of solutions/02-later: copy it from there (use … to skip text)',
      "workshop/manifest.ts (hint 2.2): `if (delayMs < 0) throw new RangeError('negative');` is not code of solutions/02-later: copy it from there (use … to skip text)",
    ]);
  });

  it('checks only the last hint: the earlier ones may sketch the code', () => {
    expect(found(['Something like `this.add(task, later)`?', '`return this.add(task, payload, opts, delayMs);`'])).toEqual([]);
  });

  it('wants the parts around … in their order', () => {
    expect(isQuoted('throw new RangeError( … return this.add(', SOLUTION)).toBe(true);
    expect(isQuoted('return this.add( … throw new RangeError(', SOLUTION)).toBe(false);
  });
});
