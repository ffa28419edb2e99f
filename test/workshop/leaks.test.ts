// The answer check of course:check, on a made-up course of two exercises in a
// folder of its own: each place where an answer must not be printed, and the
// places where it may.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Exercise } from '../../workshop/manifest.ts';
import { answerLines, leakProblems, outsideDetails } from '../../workshop/check/leaks.ts';

const first: Exercise = {
  number: 1,
  slug: '01-first',
  title: 'First',
  summary: '',
  files: ['jobs/client.ts'],
  chapter: '',
  hints: ['What does add() take?', 'The answer: `const job = await this.queue(name).add(task, data);`'],
};
const second: Exercise = {
  ...first,
  number: 2,
  slug: '02-second',
  title: 'Second',
  spoilers: [/\b26 runs\b/],
  hints: ['Which option waits?', 'return this.add(task, payload, opts, delayMs);'],
};

const STARTER_1 = ['import { Queue } from "bullmq";', 'async add() {', '  // 🐨 TODO(1): add the job', '  throw new Error("TODO(1) is not done yet");', '}', 'async later() {', '  return this.add(task, payload, opts, delayMs);', '}'].join('\n');
const SOLUTION_1 = ['import { Queue, Job } from "bullmq";', 'async add() {', '  // Every job goes through here.', '  const job = await this.queue(name).add(task, data);', '  return job;', '}', 'async later() {', '  return this.add(task, payload, opts, delayMs);', '}'].join('\n');
const STARTER_2 = SOLUTION_1.replace('  return this.add(task, payload, opts, delayMs);', '  // 🐨 TODO(1): call add with the delay\n  throw new Error("TODO(1) is not done yet");');

/** course writes a made-up course to a folder of its own: `files` maps a path to its text. */
function course(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'leaks-'));
  const all: Record<string, string> = {
    'exercises/01-first/jobs/client.ts': STARTER_1,
    'solutions/01-first/jobs/client.ts': SOLUTION_1,
    'exercises/02-second/jobs/client.ts': STARTER_2,
    'solutions/02-second/jobs/client.ts': SOLUTION_1,
    'exercises/01-first/README.md': '# 01 · First\nName `src/jobs/client.ts`.',
    'exercises/02-second/README.md': '# 02 · Second',
    'WORKSHOP.md': '# The workshop',
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const found = (root: string) => leakProblems(root, [first, second]).map((p) => `${p.where}: ${p.what}`);

describe('the answer check', () => {
  it("takes as answer lines the solution's lines that the starter lacks, without comments, imports and short lines", () => {
    const root = course({});
    expect(answerLines(first, root)).toEqual(['const job = await this.queue(name).add(task, data);']);
    expect(answerLines(second, root)).toEqual(['return this.add(task, payload, opts, delayMs);']);
  });

  it('finds nothing in a course that keeps its answers out of reach', () => {
    expect(found(course({ 'WORKSHOP.md': '# W\n<details><summary>After exercise 01: the code</summary>\n\n```ts\nconst job = await this.queue(name).add(task, data);\n```\n</details>' }))).toEqual([
      // 01's starter holds 02's answer: the fixture's own mistake, caught as below.
      "exercises/01-first/jobs/client.ts:7: gives away exercise 02's answer: return this.add(task, payload, opts, delayMs);",
    ]);
  });

  it("finds an answer in the exercise's README, however it is wrapped", () => {
    const root = course({ 'exercises/01-first/README.md': '# 01\nType `const job = await\n  this.queue(name).add(task, data);`' });
    expect(found(root)).toContain("exercises/01-first/README.md:2: gives away exercise 01's answer: const job = await this.queue(name).add(task, data);");
  });

  it('finds an answer in a hint before the last, and allows it in the last', () => {
    const early = { ...first, hints: ['`const job = await this.queue(name).add(task, data);`', 'the last'] };
    const root = course({});
    expect(leakProblems(root, [early, second]).map((p) => p.where)).toContain('workshop/manifest.ts (hint 1.1)');
    expect(leakProblems(root, [first, second]).map((p) => p.where)).not.toContain('workshop/manifest.ts (hint 1.2)');
  });

  it("finds an answer in WORKSHOP.md, README.md and docs/ outside <details>, and a later exercise's answer in an earlier starter", () => {
    const root = course({
      'WORKSHOP.md': '# W\n\n```ts\nconst job = await this.queue(name).add(task, data);\n```',
      'docs/guide.md': 'Write `return this.add(task, payload, opts, delayMs);`',
    });
    const problems = found(root);
    expect(problems).toContain("WORKSHOP.md:4: gives away exercise 01's answer: const job = await this.queue(name).add(task, data);");
    expect(problems).toContain("docs/guide.md:1: gives away exercise 02's answer: return this.add(task, payload, opts, delayMs);");
    expect(problems).toContain("exercises/01-first/jobs/client.ts:7: gives away exercise 02's answer: return this.add(task, payload, opts, delayMs);");
  });

  it("finds a link to the src/ file an exercise stands in for, and a spoiler of a later exercise's prediction", () => {
    const root = course({ 'exercises/01-first/README.md': '# 01\nSee [the client](../../src/jobs/client.ts). A job runs 26 runs at most.' });
    const problems = found(root);
    expect(problems).toContain("exercises/01-first/README.md: links to src/jobs/client.ts, exercise 01's answer: name the file without a link");
    expect(problems).toContain("exercises/01-first/README.md:2: answers exercise 02's prediction (/\\b26 runs\\b/): move it behind that exercise");
  });

  it('blanks <details> blocks, nested ones too, and keeps the line count', () => {
    const text = 'a\n<details><summary>x</summary>\nb\n<details>\nc\n</details>\nd\n</details>\ne';
    expect(outsideDetails(text)).toBe('a\n\n\n\n\n\n\n\ne');
  });
});
