import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { editedFiles, exerciseDir, pad2, ROOT, runCommand, SRC } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';
import { currentLock, readLock } from '../shared/starters.ts';
import { hintProblems } from './hints.ts';
import { leakProblems, openDocPaths } from './leaks.ts';
import { codeBlocks, headingAnchors, isExcerpt, links } from './markdown.ts';

/** Problem is one thing course:check found wrong, said so that an author can fix it. */
export interface Problem {
  where: string;
  what: string;
}

const GAP = /TODO\((\d+)\)/g;

/** FINISHED_APP: every exercise README says it, so that nobody opens src/ by accident. */
export const FINISHED_APP = '`src/` is the finished app';

/** staticProblems checks everything that needs no test run: folders, files, docs, the lock, answers in the open, the last hints' code. */
export function staticProblems(): Problem[] {
  return [...manifestProblems(), ...EXERCISES.flatMap(exerciseProblems), ...lockProblems(), ...tsconfigProblems(), ...docsProblems(), ...leakProblems(), ...hintProblems()];
}

function manifestProblems(): Problem[] {
  const problems: Problem[] = [];
  EXERCISES.forEach((exercise, i) => {
    const where = `workshop/manifest.ts (${exercise.slug})`;
    if (exercise.number !== i + 1) problems.push({ where, what: `is number ${exercise.number} but stands at place ${i + 1}` });
    if (!exercise.slug.startsWith(`${pad2(exercise.number)}-`)) problems.push({ where, what: `the folder name must start with ${pad2(exercise.number)}-` });
    if (exercise.hints.length < 2) problems.push({ where, what: `has ${exercise.hints.length} hints; give it at least 2` });
    if (exercise.files.length === 0) problems.push({ where, what: 'names no file for the learner to edit' });
  });
  for (const target of ['exercises', 'solutions'] as const) {
    for (const entry of readdirSync(join(ROOT, target))) {
      if (!statSync(join(ROOT, target, entry)).isDirectory()) continue;
      if (!EXERCISES.some((e) => e.slug === entry)) problems.push({ where: `${target}/${entry}`, what: 'is not in workshop/manifest.ts' });
    }
  }
  return problems;
}

function exerciseProblems(exercise: Exercise): Problem[] {
  const problems: Problem[] = [];
  const starterDir = exerciseDir(exercise);
  const solutionDir = exerciseDir(exercise, 'solutions');
  const rel = (path: string) => relative(ROOT, path);

  const gaps = new Set<number>();
  for (const file of editedFiles(exercise)) {
    const starter = join(starterDir, file);
    const solution = join(solutionDir, file);
    if (!existsSync(starter)) problems.push({ where: rel(starter), what: 'is missing' });
    if (!existsSync(solution)) problems.push({ where: rel(solution), what: 'is missing' });
    if (!existsSync(starter) || !existsSync(solution)) continue;

    const starterText = readFileSync(starter, 'utf8');
    const solutionText = readFileSync(solution, 'utf8');
    for (const match of starterText.matchAll(GAP)) gaps.add(Number(match[1]));
    if (!starterText.includes('🐨')) problems.push({ where: rel(starter), what: 'has no 🐨 marking where the work goes' });
    if (starterText === solutionText) problems.push({ where: rel(starter), what: 'is the same as its solution: there is nothing to do' });
    if (GAP.test(solutionText) || solutionText.includes('🐨')) problems.push({ where: rel(solution), what: 'still has a TODO( or a 🐨' });
    GAP.lastIndex = 0;

    // A solution is the src/ file it stands for, so the two cannot drift apart.
    if (exercise.files.includes(file)) {
      const twin = join(SRC, file);
      if (!existsSync(twin)) problems.push({ where: rel(solution), what: `stands for ${rel(twin)}, which does not exist` });
      else if (readFileSync(twin, 'utf8') !== solutionText) problems.push({ where: rel(solution), what: `differs from ${rel(twin)}: copy it over (cp ${rel(twin)} ${rel(solution)}) and update the starter` });
    }
  }
  const numbers = [...gaps].sort((a, b) => a - b);
  if (numbers.length === 0) problems.push({ where: rel(starterDir), what: 'has no TODO(n) gap' });
  else if (numbers.some((n, i) => n !== i + 1)) problems.push({ where: rel(starterDir), what: `gaps must be numbered 1 to ${numbers.length}, found ${numbers.join(', ')}` });

  const suite = join(ROOT, 'test', 'exercises', `${exercise.slug}.test.ts`);
  if (!existsSync(suite)) problems.push({ where: rel(suite), what: 'is missing' });
  else {
    const text = readFileSync(suite, 'utf8');
    for (const n of numbers) {
      if (!new RegExp(`\\(TODO[^)]*\\b${n}\\b`).test(text)) problems.push({ where: rel(suite), what: `no test names TODO ${n} in its title ("… (TODO ${n})")` });
    }
  }

  const readme = join(starterDir, 'README.md');
  if (!existsSync(readme)) problems.push({ where: rel(readme), what: 'is missing' });
  else {
    const text = readFileSync(readme, 'utf8');
    const must = [
      `WORKSHOP.md#${exercise.chapter}`,
      `npm run exercise ${exercise.number}`,
      // It names its src/ twin (without a link: that file is the answer) and says so once.
      ...exercise.files.map((file) => `src/${file}`),
      FINISHED_APP,
      ...(exercise.processes ?? []).map((process) => runCommand(process, exercise)),
    ];
    for (const text_ of must) if (!text.includes(text_)) problems.push({ where: rel(readme), what: `should mention ${text_}` });
    for (const n of numbers) if (!text.includes(`TODO(${n})`)) problems.push({ where: rel(readme), what: `has no step for TODO(${n})` });
  }
  if (!existsSync(join(solutionDir, 'README.md'))) problems.push({ where: rel(join(solutionDir, 'README.md')), what: 'is missing' });
  return problems;
}

function lockProblems(): Problem[] {
  const lock = readLock();
  const now = currentLock();
  const problems: Problem[] = [];
  for (const key of new Set([...Object.keys(lock), ...Object.keys(now)])) {
    if (lock[key] !== now[key]) problems.push({ where: `exercises/${key}`, what: 'does not match workshop/starters.lock.json: run `npm run course:check -- --write-lock` after changing a starter' });
  }
  return problems;
}

function tsconfigProblems(): Problem[] {
  const text = readFileSync(join(ROOT, 'tsconfig.json'), 'utf8');
  const rootDirs = (JSON.parse(text.replace(/^\s*\/\/.*$/gm, '')) as { compilerOptions: { rootDirs?: string[] } }).compilerOptions.rootDirs ?? [];
  const wanted = ['src', ...EXERCISES.map((e) => `exercises/${e.slug}`), ...EXERCISES.map((e) => `solutions/${e.slug}`)];
  if (JSON.stringify(rootDirs) === JSON.stringify(wanted)) return [];
  return [{ where: 'tsconfig.json', what: `compilerOptions.rootDirs must be exactly ${JSON.stringify(wanted)} ("src" first, so src/ files win)` }];
}

/** The Markdown files whose commands, code and links must hold: the open docs (every page under docs/ included), AUTHORING.md and the exercise READMEs. */
export function docFiles(): string[] {
  const files = [...openDocPaths(), join(ROOT, 'workshop/AUTHORING.md')].filter((path) => existsSync(path));
  for (const exercise of EXERCISES) {
    for (const target of ['exercises', 'solutions'] as const) {
      const readme = join(exerciseDir(exercise, target), 'README.md');
      if (existsSync(readme)) files.push(readme);
    }
  }
  return files;
}

function docsProblems(): Problem[] {
  const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
  const sources = sourceFiles();
  const problems: Problem[] = [];
  for (const file of docFiles()) {
    const text = readFileSync(file, 'utf8');
    const where = (line: number) => `${relative(ROOT, file)}:${line}`;
    const ownExercise = EXERCISES.find((e) => file.startsWith(exerciseDir(e)) || file.startsWith(exerciseDir(e, 'solutions')));

    // Every `npm run x` anywhere in the text (prose or code) must be a script.
    text.split('\n').forEach((line, i) => {
      for (const match of line.matchAll(/npm run ([\w:-]+)/g)) {
        if (!scripts.includes(match[1]!)) problems.push({ where: where(i + 1), what: `\`npm run ${match[1]}\`: there is no such script in package.json` });
      }
      for (const match of line.matchAll(/workshop\/run\.ts (\w+) (\d+)/g)) {
        const exercise = EXERCISES.find((e) => e.number === Number(match[2]));
        if (!exercise || !(exercise.processes ?? []).includes(match[1] as never)) {
          problems.push({ where: where(i + 1), what: `\`workshop/run.ts ${match[1]} ${match[2]}\`: exercise ${match[2]} lists no such process in the manifest` });
        } else if (ownExercise && exercise !== ownExercise) {
          problems.push({ where: where(i + 1), what: `runs exercise ${match[2]}'s files from exercise ${ownExercise.number}'s README` });
        }
      }
    });

    for (const block of codeBlocks(text)) {
      if (!['ts', 'typescript'].includes(block.lang)) continue;
      if (!sources.some((source) => isExcerpt(block.code, source))) {
        problems.push({ where: where(block.line), what: 'this TypeScript block is not lines of any file in src/, solutions/, test/ or workshop/: copy it from the code (use `// …` to skip lines)' });
      }
    }

    for (const link of links(text)) {
      if (/^[a-z]+:/i.test(link.target) || link.target.startsWith('#') && !link.target.slice(1)) continue;
      const [path, anchor] = link.target.split('#') as [string, string | undefined];
      const target = path ? resolve(dirname(file), path) : file;
      if (!existsSync(target)) {
        problems.push({ where: where(link.line), what: `links to ${link.target}, which does not exist` });
      } else if (anchor && target.endsWith('.md') && !headingAnchors(readFileSync(target, 'utf8')).has(anchor)) {
        problems.push({ where: where(link.line), what: `links to #${anchor}, a heading that ${relative(ROOT, target)} does not have` });
      }
    }
  }
  return problems;
}

let cachedSources: string[] | undefined;
/** The text of every TypeScript file a code block may quote. */
function sourceFiles(): string[] {
  if (cachedSources) return cachedSources;
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) texts.push(readFileSync(path, 'utf8'));
    }
  };
  for (const dir of ['src', 'solutions', 'test', 'workshop']) walk(join(ROOT, dir));
  return (cachedSources = texts);
}

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen'];

/**
 * checkCountProblems holds each README's "all N checks pass" to the verdict's
 * count: the suite's tests, plus the type check, which the verdict counts as
 * one check. `results` come from running every solution's suite.
 */
export function checkCountProblems(results: { exercise: Exercise; tests: unknown[] }[]): Problem[] {
  const problems: Problem[] = [];
  for (const { exercise, tests } of results) {
    const readme = join(exerciseDir(exercise), 'README.md');
    if (!existsSync(readme) || tests.length === 0) continue;
    const count = tests.length + 1;
    readFileSync(readme, 'utf8').split('\n').forEach((line, i) => {
      for (const match of line.matchAll(/\ball (\w+) checks\b/gi)) {
        const said = NUMBER_WORDS.indexOf(match[1]!.toLowerCase());
        const n = said >= 0 ? said : Number(match[1]);
        if (n !== count) problems.push({ where: `${relative(ROOT, readme)}:${i + 1}`, what: `says "all ${match[1]} checks"; the verdict counts ${count} (${tests.length} tests and the type check)` });
      }
    });
  }
  return problems;
}
