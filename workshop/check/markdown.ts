/** A fenced code block of a Markdown file. */
export interface CodeBlock {
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** codeBlocks lists the fenced blocks (``` or ~~~) of a Markdown text. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+|~~~+)\s*([\w-]*)/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.trim().startsWith(fence)) body.push(lines[j++]!);
    blocks.push({ lang: open[3]!.toLowerCase(), code: body.join('\n'), line: i + 1 });
    i = j;
  }
  return blocks;
}

/** A link of a Markdown file: its target as written, and its line. */
export interface Link {
  target: string;
  line: number;
}

/** links lists inline Markdown links outside code blocks: [text](target). */
export function links(markdown: string): Link[] {
  const found: Link[] = [];
  let inFence = false;
  markdown.split('\n').forEach((text, i) => {
    if (/^\s*(```|~~~)/.test(text)) inFence = !inFence;
    if (inFence) return;
    const withoutCode = text.replace(/`[^`]*`/g, '');
    for (const match of withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) found.push({ target: match[1]!, line: i + 1 });
  });
  return found;
}

/** headingAnchors gives the anchors GitHub makes for a Markdown text's headings. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const text of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(text)) inFence = !inFence;
    const heading = !inFence && /^#{1,6}\s+(.*)$/.exec(text);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** slug is GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/**
 * isExcerpt tells whether a code block is made of lines of `source`: each run
 * of lines between `// …` markers must appear in it, in a row, ignoring
 * indentation and blank lines.
 */
export function isExcerpt(code: string, source: string): boolean {
  const sourceLines = source.split('\n').map((l) => l.trim()).filter(Boolean);
  const runs = code
    .split(/^\s*\/\/ (?:…|\.\.\.).*$/m)
    .map((run) => run.split('\n').map((l) => l.trim()).filter(Boolean))
    .filter((run) => run.length > 0);
  return runs.every((run) => {
    for (let i = 0; i + run.length <= sourceLines.length; i++) {
      if (run.every((line, k) => sourceLines[i + k] === line)) return true;
    }
    return false;
  });
}
