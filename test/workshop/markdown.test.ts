import { describe, expect, it } from 'vitest';
import { codeBlocks, headingAnchors, isExcerpt, links, slug } from '../../workshop/check/markdown.ts';

describe('the Markdown checks of course:check', () => {
  const doc = [
    '# 3. The client: enqueue now or later',
    'See [the code](src/jobs/client.ts) and [above](#3-the-client-enqueue-now-or-later), not `[this](x)`.',
    '```ts',
    'const a = 1;',
    '// …',
    'const c = 3;',
    '```',
    '## `npm run jobs` and more',
    '```bash',
    '[not](a-link)',
    '```',
  ].join('\n');

  it('finds fenced blocks with their language and line', () => {
    expect(codeBlocks(doc)).toEqual([
      { lang: 'ts', code: 'const a = 1;\n// …\nconst c = 3;', line: 3 },
      { lang: 'bash', code: '[not](a-link)', line: 9 },
    ]);
  });

  it('finds links outside code, and none inside it', () => {
    expect(links(doc).map((l) => l.target)).toEqual(['src/jobs/client.ts', '#3-the-client-enqueue-now-or-later']);
  });

  it("makes GitHub's heading anchors", () => {
    expect(slug('6. Cron, and the double-fire trap')).toBe('6-cron-and-the-double-fire-trap');
    expect([...headingAnchors(doc)]).toEqual(['3-the-client-enqueue-now-or-later', 'npm-run-jobs-and-more']);
  });

  it('accepts a block made of lines of the source, with // … between runs, whatever the indentation', () => {
    const source = 'function f() {\n    const a = 1;\n    const b = 2;\n    const c = 3;\n}\n';
    expect(isExcerpt('const a = 1;\n// …\nconst c = 3;', source)).toBe(true);
    expect(isExcerpt('const a = 1;\nconst b = 2;', source)).toBe(true);
  });

  it('refuses a block with a line the source lacks, or lines out of their order', () => {
    const source = 'const a = 1;\nconst b = 2;\n';
    expect(isExcerpt('const a = 1;\nconst b = 3;', source)).toBe(false);
    expect(isExcerpt('const b = 2;\nconst a = 1;', source)).toBe(false);
  });
});
