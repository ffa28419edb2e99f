import { mkdirSync, watch as watchFs, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { emitKeypressEvents } from 'node:readline';
import { editedFiles, exerciseDir } from '../course.ts';
import type { Exercise } from '../manifest.ts';
import { diffWithSolution } from './files.ts';
import type { Session } from './session.ts';
import { dim } from './style.ts';
import { WatchScreen, type Key, type WatchEvent } from './watch-screen.ts';

const CLEAR = '\x1b[2J\x1b[3J\x1b[H';
/** Editors write a file in several steps; wait for the last one before re-running. */
const SETTLE_MS = 60;
/** How often the seconds of a running check move on. */
const TICK_MS = 1_000;

/**
 * watchExercise runs the watch screen in this terminal: it feeds the screen
 * the keys, the saves, the changes to the progress file and a clock, and
 * draws what the screen says. It resolves when the learner quits.
 */
export async function watchExercise(session: Session, first: Exercise, opts: { manual: boolean; notice?: string }): Promise<void> {
  const watchers: FSWatcher[] = [];
  let settle: NodeJS.Timeout | undefined;
  let screen!: WatchScreen;
  let quit!: () => void;
  const done = new Promise<void>((resolve) => (quit = resolve));

  const handle = (event: WatchEvent) => {
    screen.handle(event);
    if (screen.state.quit) quit();
  };

  const stopWatchingFiles = () => {
    clearTimeout(settle);
    for (const watcher of watchers.splice(0)) watcher.close();
  };

  screen = new WatchScreen(
    {
      target: session.target,
      progress: session.progress,
      servicesSummary: session.services.summary,
      check: (exercise, onProgress) => session.run(exercise, onProgress),
      cancel: () => void session.runner.cancel(),
      diff: (exercise) => diffWithSolution(exercise),
      draw: (text) => process.stdout.write(`${CLEAR}${text}\n`),
      now: () => Date.now(),
      columns: () => process.stdout.columns || 100,
      watchFiles: (exercise) => {
        stopWatchingFiles();
        if (screen.state.manual) return;
        const files = editedFiles(exercise).map((file) => join(exerciseDir(exercise, session.target), file));
        // Watch folders, not files: many editors save by writing a new file and renaming it.
        for (const dir of new Set(files.map((file) => dirname(file)))) {
          try {
            const watcher = watchFs(dir, (_event, name) => {
              if (name && !files.includes(join(dir, basename(name.toString())))) return;
              clearTimeout(settle);
              settle = setTimeout(() => handle({ type: 'saved' }), SETTLE_MS);
            });
            watcher.on('error', () => {
              stopWatchingFiles();
              handle({ type: 'cannot-watch' });
            });
            watchers.push(watcher);
          } catch {
            stopWatchingFiles();
            // Called while the screen switches exercise: report it once that is done.
            setImmediate(() => handle({ type: 'cannot-watch' }));
            return;
          }
        }
      },
    },
    first,
    opts,
  );

  // A reset or a pass in another terminal changes the progress file: show it at once.
  const progressWatcher = watchProgressFile(session.progress.file, () => handle({ type: 'progress-file-changed' }));
  const ticker = setInterval(() => handle({ type: 'tick' }), TICK_MS);

  const stdin = process.stdin;
  const keys = stdin.isTTY;
  const onKey = (_text: string | undefined, key: Key = {}) => handle({ type: 'key', key });
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

  handle({ type: 'start' });
  await done;

  clearInterval(ticker);
  progressWatcher?.close();
  stopWatchingFiles();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (keys) {
    stdin.off('keypress', onKey);
    stdin.setRawMode(false);
    stdin.pause();
  }
  // A check may still be under way: stop it, its result is not wanted.
  await session.runner.cancel();
  process.stdout.write(`\n${dim(`Progress saved. \`npm run exercise\` takes you back to where you were.`)}\n`);
}

/** watchProgressFile calls onChange when the progress file is written, created or removed. */
function watchProgressFile(file: string, onChange: () => void): FSWatcher | undefined {
  let settle: NodeJS.Timeout | undefined;
  try {
    // Its folder, since the file is replaced on every write (and may not exist yet).
    mkdirSync(dirname(file), { recursive: true });
    return watchFs(dirname(file), (_event, name) => {
      if (name && basename(name.toString()) !== basename(file)) return;
      clearTimeout(settle);
      settle = setTimeout(onChange, SETTLE_MS);
    });
  } catch {
    // A file system that cannot be watched: changes made elsewhere show at the next check.
    return undefined;
  }
}
