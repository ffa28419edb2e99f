import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { editedFiles, pad2, ROOT } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';
import { links } from './markdown.ts';
import type { Problem } from './static.ts';

/**
 * The answer check of course:check: no exercise's answer is printed before the
 * learner has tried it.
 *
 * An exercise's answer lines are the lines its solution files have and its
 * starter files lack, compared without whitespace. Comments, imports and
 * lines shorter than MIN_ANSWER_CHARS are left aside: they give nothing away.
 * None of them may appear
 * - in the exercise's own README, or in any of its hints but the last;
 * - in WORKSHOP.md, README.md, BENCHMARKS.md or docs/ outside a `<details>` block;
 * - in an earlier exercise's README, solution README, hints or starter files.
 * The same goes for its spoilers, the phrases that answer a "predict first"
 * question, and for links to the src/ file that it stands in for.
 */

/** MIN_ANSWER_CHARS: an answer line shorter than this, without whitespace, is too common to give anything away (`return true;`). */
export const MIN_ANSWER_CHARS = 16;

/** A place where text sits in the open, and what it holds. */
interface Place {
  where: string;
  text: string;
  /** Whether a problem's place names the line: a file's does, a one-line hint's does not. */
  numbered?: boolean;
  /** Where this text is a Markdown file: its links, to look for links to answer files. */
  links?: string[];
}

/** squash drops all whitespace, so that a line matches however it is wrapped or indented. */
export function squash(text: string): string {
  return text.replace(/\s+/g, '');
}

export function isComment(line: string): boolean {
  return /^(\/\/|\/\*|\*|\*\/)/.test(line.trim());
}

/** answerLines lists an exercise's answer lines, as written in its solution (trimmed). */
export function answerLines(exercise: Exercise, root = ROOT): string[] {
  const found = new Set<string>();
  for (const file of editedFiles(exercise)) {
    const starter = join(root, 'exercises', exercise.slug, file);
    const solution = join(root, 'solutions', exercise.slug, file);
    if (!existsSync(starter) || !existsSync(solution)) continue;
    const inStarter = new Set(readFileSync(starter, 'utf8').split('\n').map(squash));
    for (const line of readFileSync(solution, 'utf8').split('\n')) {
      const key = squash(line);
      if (key.length < MIN_ANSWER_CHARS || isComment(line) || /^import\b/.test(line.trim()) || inStarter.has(key)) continue;
      found.add(line.trim());
    }
  }
  return [...found];
}

/** outsideDetails is a Markdown text with its `<details>` blocks blanked out (lines kept, for line numbers). */
export function outsideDetails(markdown: string): string {
  let depth = 0;
  return markdown
    .split('\n')
    .map((line) => {
      const opens = (line.match(/<details\b/g) ?? []).length;
      const closes = (line.match(/<\/details>/g) ?? []).length;
      const hidden = depth > 0 || opens > 0;
      depth = Math.max(0, depth + opens - closes);
      return hidden ? '' : line;
    })
    .join('\n');
}

function markdownPlace(path: string, root: string, open = false): Place | undefined {
  if (!existsSync(path)) return undefined;
  const raw = readFileSync(path, 'utf8');
  const text = open ? outsideDetails(raw) : raw;
  return { where: relative(root, path), text, links: links(text).map((l) => l.target.split('#')[0]!).filter(Boolean).map((target) => join(path, '..', target)) };
}

/** OPEN_PAGES: the top-level pages every learner may read at any time, beside every page under docs/. */
const OPEN_PAGES = ['WORKSHOP.md', 'README.md', 'BENCHMARKS.md'];

/** openDocPaths lists the docs every learner may read at any time: OPEN_PAGES and every `.md` under docs/, read from the folder. */
export function openDocPaths(root = ROOT): string[] {
  const docs = join(root, 'docs');
  const pages = existsSync(docs) ? readdirSync(docs, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md')).sort().map((f) => join(docs, f)) : [];
  return [...OPEN_PAGES.map((f) => join(root, f)), ...pages].filter((path) => existsSync(path));
}

/** The docs every learner may read at any time: only their `<details>` blocks may hold answers. */
function openDocs(root: string): Place[] {
  return openDocPaths(root).map((path) => markdownPlace(path, root, true)).filter((p): p is Place => Boolean(p));
}

function hintPlaces(exercise: Exercise, upTo: number): Place[] {
  return exercise.hints.slice(0, upTo).map((text, i) => ({ where: `workshop/manifest.ts (hint ${exercise.number}.${i + 1})`, text, numbered: false }));
}

/** The places that must not hold `exercise`'s answer: see the top of this file. */
function placesBefore(exercise: Exercise, root: string, exercises: readonly Exercise[]): Place[] {
  const places: Place[] = [];
  const own = markdownPlace(join(root, 'exercises', exercise.slug, 'README.md'), root);
  if (own) places.push(own);
  places.push(...hintPlaces(exercise, exercise.hints.length - 1));
  places.push(...openDocs(root));
  for (const earlier of exercises.filter((e) => e.number < exercise.number)) {
    const dir = join(root, 'exercises', earlier.slug);
    for (const path of [join(dir, 'README.md'), join(root, 'solutions', earlier.slug, 'README.md')]) {
      const place = markdownPlace(path, root);
      if (place) places.push(place);
    }
    places.push(...hintPlaces(earlier, earlier.hints.length));
    for (const file of editedFiles(earlier)) {
      const path = join(dir, file);
      if (existsSync(path)) places.push({ where: relative(root, path), text: readFileSync(path, 'utf8') });
    }
  }
  return places;
}

/** lineOf finds the 1-based line of a text where `found` first holds, or 0. */
function lineOf(text: string, found: (line: string) => boolean): number {
  return text.split('\n').findIndex(found) + 1;
}

/** lineOfAnswer finds the line where a squashed answer starts in a text, however the text wraps it, or 0. */
function lineOfAnswer(text: string, key: string): number {
  let squashed = '';
  const lineAt: number[] = [];
  text.split('\n').forEach((line, i) => {
    const part = squash(line);
    squashed += part;
    for (let k = 0; k < part.length; k++) lineAt.push(i + 1);
  });
  const at = squashed.indexOf(key);
  return at < 0 ? 0 : lineAt[at]!;
}

/** leakProblems lists every answer line, spoiler and answer-file link found in the open. */
export function leakProblems(root = ROOT, exercises: readonly Exercise[] = EXERCISES): Problem[] {
  const problems: Problem[] = [];
  for (const exercise of exercises) {
    const answers = answerLines(exercise, root);
    const twins = exercise.files.map((file) => join(root, 'src', file));
    const label = `exercise ${pad2(exercise.number)}`;
    for (const place of placesBefore(exercise, root, exercises)) {
      const squashed = squash(place.text);
      for (const answer of answers) {
        const key = squash(answer);
        if (!squashed.includes(key)) continue;
        const line = place.numbered === false ? 0 : lineOfAnswer(place.text, key);
        problems.push({ where: line ? `${place.where}:${line}` : place.where, what: `gives away ${label}'s answer: ${answer}` });
      }
      for (const spoiler of exercise.spoilers ?? []) {
        const line = place.numbered === false ? 0 : lineOf(place.text, (l) => spoiler.test(l));
        if (line || spoiler.test(place.text.replace(/\s+/g, ' '))) {
          problems.push({ where: line ? `${place.where}:${line}` : place.where, what: `answers ${label}'s prediction (${spoiler}): move it behind that exercise` });
        }
      }
      for (const target of place.links ?? []) {
        if (twins.includes(target)) problems.push({ where: place.where, what: `links to ${relative(root, target)}, ${label}'s answer: name the file without a link` });
      }
    }
  }
  return problems;
}
