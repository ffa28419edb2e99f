import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { editedFiles, ROOT } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';
import type { Problem } from './static.ts';

/**
 * The hint check of course:check: the code in an exercise's last hint is the
 * code of its solution, so the hint cannot drift from the answer it gives.
 *
 * Every code span of the last hint that looks like code (see looksLikeCode)
 * must be an excerpt of one of the exercise's solution files, whitespace
 * aside. A `…` in a span stands for skipped text.
 */

/** SKIPPED: in a hint's code span, `…` stands for text left out. */
export const SKIPPED = '…';

/**
 * codeSpans lists the Markdown code spans of a text, as CommonMark reads them:
 * a run of n backticks opens a span that the next run of exactly n closes, so
 * ``a `b` c`` is one span. One space just inside each end is dropped.
 */
export function codeSpans(text: string): string[] {
  const spans: string[] = [];
  const run = /`+/g;
  let open: RegExpExecArray | null;
  while ((open = run.exec(text))) {
    const fence = open[0];
    const close = new RegExp(`(?<!\`)${fence}(?!\`)`, 'g');
    close.lastIndex = run.lastIndex;
    const end = close.exec(text);
    if (!end) continue;
    const body = text.slice(run.lastIndex, end.index);
    spans.push(/^ .*\S.* $/s.test(body) ? body.slice(1, -1) : body);
    run.lastIndex = close.lastIndex;
  }
  return spans;
}

/**
 * looksLikeCode tells a span of code from a name. A span is code when it holds
 * a space or any of ( ) { } [ ] = ; : , . and so cannot be a plain name: a bare
 * identifier, number or quoted word (`hostname`, `26`, `'update_inventory'`)
 * is left alone, as prose that names a thing rather than quotes it.
 */
export function looksLikeCode(span: string): boolean {
  return /[\s(){}[\]=;:,.]/.test(span.trim());
}

/** normalise collapses every run of whitespace, newlines and indentation included, into one space. */
function normalise(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * isQuoted tells whether a span is an excerpt of `source`: its parts between
 * `…` appear in it, in order, with whitespace collapsed. A hint joins the
 * lines of the code it quotes with spaces, and this reads them back that way.
 */
export function isQuoted(span: string, source: string): boolean {
  const text = normalise(source);
  let from = 0;
  for (const part of span.split(SKIPPED).map(normalise).filter(Boolean)) {
    const at = text.indexOf(part, from);
    if (at < 0) return false;
    from = at + part.length;
  }
  return true;
}

/** solutionTexts reads an exercise's solution files, the ones its last hint may quote. */
function solutionTexts(exercise: Exercise, root: string): string[] {
  return editedFiles(exercise)
    .map((file) => join(root, 'solutions', exercise.slug, file))
    .filter(existsSync)
    .map((path) => readFileSync(path, 'utf8'));
}

/** hintProblems lists every code span of a last hint that none of its exercise's solution files holds. */
export function hintProblems(root = ROOT, exercises: readonly Exercise[] = EXERCISES): Problem[] {
  const problems: Problem[] = [];
  for (const exercise of exercises) {
    const last = exercise.hints.at(-1);
    if (last === undefined) continue;
    const sources = solutionTexts(exercise, root);
    const where = `workshop/manifest.ts (hint ${exercise.number}.${exercise.hints.length})`;
    for (const span of codeSpans(last).filter(looksLikeCode)) {
      if (!sources.some((source) => isQuoted(span, source))) {
        problems.push({ where, what: `\`${span}\` is not code of solutions/${exercise.slug}: copy it from there (use … to skip text)` });
      }
    }
  }
  return problems;
}
