// Which Markdown pages course:check reads: every page under docs/ (read from
// the folder, so a new page is covered the day it is added) and BENCHMARKS.md,
// both for the doc checks (commands, links, code) and for answers in the open.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../workshop/course.ts';
import { openDocPaths } from '../../workshop/check/leaks.ts';
import { docFiles } from '../../workshop/check/static.ts';

describe('the pages course:check reads', () => {
  it('holds every page under docs/, BENCHMARKS.md, README.md and WORKSHOP.md to the doc checks', () => {
    const pages = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
    expect(pages.length, 'docs/ should hold the pages the README links to').toBeGreaterThan(0);
    const read = docFiles().map((f) => relative(ROOT, f));
    for (const page of pages) expect(read, `docs/${page} should be checked`).toContain(`docs/${page}`);
    expect(read).toEqual(expect.arrayContaining(['README.md', 'WORKSHOP.md', 'BENCHMARKS.md', 'workshop/AUTHORING.md']));
  });

  it('finds a new page, nested ones included, without a list to update', () => {
    const root = mkdtempSync(join(tmpdir(), 'doc-pages-'));
    mkdirSync(join(root, 'docs', 'deeper'), { recursive: true });
    for (const path of ['README.md', 'BENCHMARKS.md', 'docs/new-page.md', 'docs/deeper/more.md', 'docs/picture.png', 'NOTES.md']) writeFileSync(join(root, path), '# page\n');
    expect(openDocPaths(root).map((f) => relative(root, f))).toEqual(['README.md', 'BENCHMARKS.md', 'docs/deeper/more.md', 'docs/new-page.md']);
  });
});
