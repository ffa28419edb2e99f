import { watch as watchFs, type FSWatcher } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { emitKeypressEvents } from 'node:readline';
import { editedFiles, exerciseDir, findExercise, pad2, ROOT } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';
import { diffWithSolution } from './files.ts';
import { renderHints, renderProgress, renderVerdict } from './render.ts';
import type { Session } from './session.ts';
import { bold, colour, cyan, dim, yellow } from './style.ts';
import type { Verdict } from './verdict.ts';

const CLEAR = '\x1b[2J\x1b[3J\x1b[H';
/** Editors write a file in several steps; wait for the last one before re-running. */
const SETTLE_MS = 120;

interface Key {
  name?: string;
  ctrl?: boolean;
  sequence?: string;
}

/**
 * watchExercise is the interactive mode of `npm run exercise`: it runs the
 * check, then again on every save, on a clean screen, and reads single keys.
 * In manual mode (or where the file system cannot be watched) it re-runs on
 * `r` only. It resolves when the learner quits.
 */
export async function watchExercise(session: Session, first: Exercise, opts: { manual: boolean }): Promise<void> {
  let exercise = first;
  let verdict: Verdict | undefined;
  let crash = '';
  /** Hints show under the verdict; a diff or the list takes the verdict's place. */
  let panel = '';
  let panelOnly = false;
  let running = false;
  let again = false;
  let manual = opts.manual;
  let notice = '';
  let watchers: FSWatcher[] = [];
  let settle: NodeJS.Timeout | undefined;
  let listInput: string | undefined;
  let quit!: () => void;
  const done = new Promise<void>((resolve) => (quit = resolve));

  const solvedCount = () => EXERCISES.filter((e) => session.progress.isSolved(e)).length;

  const draw = () => {
    const mode = manual
      ? 'manual mode: press r to check again'
      : `watching ${relative(ROOT, exerciseDir(exercise, session.target))}/ — save a file to check again`;
    const keys = `${bold('h')} hint · ${bold('d')} diff · ${bold('l')} list · ${bold('n')} next · ${bold('r')} re-run · ${bold('q')} quit`;
    const verdictText = crash || (verdict ? renderVerdict(verdict, { hintsSeen: session.progress.hintsSeen(exercise), target: session.target, interactive: true }) : '');
    const screen = panelOnly ? [panel] : [verdictText || yellow(`⟳ checking exercise ${pad2(exercise.number)}…`)];
    if (panel && !panelOnly) screen.push('', panel);
    if (panelOnly) screen.push('', dim('Esc: back to the verdict'));
    screen.push('');
    if (running && verdictText) screen.push(yellow('⟳ checking again…'));
    if (notice) screen.push(yellow(notice));
    screen.push(dim(`${mode}\n${session.services.summary} · ${solvedCount()}/${EXERCISES.length} solved`), keys);
    process.stdout.write(CLEAR + colour(screen.join('\n')) + '\n');
  };

  const check = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    draw();
    try {
      verdict = (await session.check(exercise)).verdict;
      crash = '';
    } catch (err) {
      crash = `The check itself failed: ${(err as Error).stack ?? String(err)}`;
    }
    running = false;
    draw();
    if (again) {
      again = false;
      void check();
    }
  };

  const watchFiles = () => {
    for (const watcher of watchers) watcher.close();
    watchers = [];
    if (manual) return;
    const files = editedFiles(exercise).map((file) => join(exerciseDir(exercise, session.target), file));
    // Watch folders, not files: many editors save by writing a new file and renaming it.
    for (const dir of new Set(files.map((file) => dirname(file)))) {
      try {
        const watcher = watchFs(dir, (_event, name) => {
          if (name && !files.includes(join(dir, basename(name.toString())))) return;
          clearTimeout(settle);
          settle = setTimeout(() => {
            closePanel();
            void check();
          }, SETTLE_MS);
        });
        watcher.on('error', () => fallBackToManual());
        watchers.push(watcher);
      } catch {
        fallBackToManual();
        return;
      }
    }
  };

  const fallBackToManual = () => {
    manual = true;
    notice = 'This file system cannot be watched, so the check runs when you press r.';
    for (const watcher of watchers) watcher.close();
    watchers = [];
    draw();
  };

  const closePanel = () => {
    panel = '';
    panelOnly = false;
    listInput = undefined;
  };

  const go = (next: Exercise) => {
    exercise = next;
    verdict = undefined;
    crash = '';
    closePanel();
    watchFiles();
    void check();
  };

  const onKey = (_text: string | undefined, key: Key = {}) => {
    if ((key.ctrl && key.name === 'c') || key.name === 'q') return quit();
    if (listInput !== undefined) return onListKey(key);
    if (key.name === 'escape') {
      closePanel();
      return draw();
    }
    switch (key.name) {
      case 'h':
        panelOnly = false;
        panel = renderHints(exercise, session.progress.seeHint(exercise), { interactive: true });
        return draw();
      case 'd':
        panelOnly = true;
        panel = `${bold('Your files against the solution')} ${dim('(- yours, + the solution)')}\n${diffWithSolution(exercise)}`;
        return draw();
      case 'l':
        listInput = '';
        panelOnly = true;
        panel = `${renderProgress((e) => session.progress.isSolved(e), exercise, process.stdout.columns)}\n\n${cyan('Type a number and press Enter to go there.')}`;
        return draw();
      case 'n': {
        const next = EXERCISES.find((e) => e.number === exercise.number + 1);
        if (next) return go(next);
        panel = yellow('This is the last exercise.');
        return draw();
      }
      case 'r':
        closePanel();
        return void check();
      default:
    }
  };

  const onListKey = (key: Key) => {
    if (key.name === 'escape') {
      closePanel();
      return draw();
    }
    if (key.name === 'return' || key.name === 'enter') {
      const input = listInput ?? '';
      closePanel();
      try {
        return go(findExercise(input));
      } catch (err) {
        panel = yellow((err as Error).message);
        return draw();
      }
    }
    if (key.name === 'backspace') listInput = (listInput ?? '').slice(0, -1);
    else if (key.sequence && /^\d$/.test(key.sequence)) listInput = `${listInput ?? ''}${key.sequence}`.slice(-2);
    notice = `go to: ${listInput}`;
    draw();
    notice = '';
  };

  const stdin = process.stdin;
  const keys = stdin.isTTY;
  if (keys) {
    emitKeypressEvents(stdin);
    stdin.setRawMode(true);
    stdin.on('keypress', onKey);
    stdin.resume();
  }
  // Without a keyboard (stdin not a terminal), Ctrl-C still ends the session cleanly.
  const onSignal = () => quit();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  go(exercise);
  await done;

  clearTimeout(settle);
  for (const watcher of watchers) watcher.close();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (keys) {
    stdin.off('keypress', onKey);
    stdin.setRawMode(false);
    stdin.pause();
  }
  process.stdout.write(`\n${dim(`Progress saved. \`npm run exercise\` takes you back to where you were.`)}\n`);
}
