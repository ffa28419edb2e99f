import { relative } from 'node:path';
import { exerciseDir, findExercise, pad2, ROOT, type Target } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';
import type { Progress } from './progress.ts';
import { renderHints, renderProgress, renderVerdict } from './render.ts';
import { bold, colour, cyan, dim, yellow } from './style.ts';
import { passed, type CheckProgress, type Verdict } from '../shared/verdict.ts';

/** A key as node:readline reports it. */
export interface Key {
  name?: string;
  ctrl?: boolean;
  sequence?: string;
}

/** Everything that can happen to the watch screen. handle() takes one at a time. */
export type WatchEvent =
  | { type: 'start' }
  | { type: 'key'; key: Key }
  | { type: 'saved' }
  | { type: 'progress-file-changed' }
  | { type: 'check-progress'; run: number; progress: CheckProgress }
  | { type: 'check-done'; run: number; verdict: Verdict }
  | { type: 'check-crashed'; run: number; error: Error }
  | { type: 'tick' }
  | { type: 'cannot-watch' };

/** A check under way: which run, of which exercise, of which version of the files. */
interface Run {
  id: number;
  exercise: Exercise;
  /** The files' version when it started: a save after that makes its result stale. */
  filesVersion: number;
  startedAt: number;
  progress: CheckProgress;
}

type Panel =
  | { kind: 'none' }
  | { kind: 'hints'; text: string }
  | { kind: 'diff'; text: string }
  | { kind: 'list'; input: string; message?: string }
  | { kind: 'message'; text: string };

/** WatchState is the whole state of the watch screen. Only handle() changes it. */
export interface WatchState {
  exercise: Exercise;
  /** Bumped by every save and every switch of exercise; a check of an older version is stale. */
  filesVersion: number;
  run: Run | undefined;
  /** Another check is due as soon as the one under way ends (a save came meanwhile). */
  checkAgain: boolean;
  /** The last verdict, with the exercise and files it was for. */
  last: { exercise: Exercise; filesVersion: number; verdict?: Verdict; crash?: string } | undefined;
  panel: Panel;
  unfold: boolean;
  manual: boolean;
  /** A line under the verdict: why the screen opened on this exercise, until the learner moves on; or a lasting warning. */
  notice: string;
  quit: boolean;
}

/** What the watch screen needs from the world: a runner, the progress file, a terminal, the file system. */
export interface WatchDeps {
  target: Target;
  progress: Progress;
  /** One line about Redis and the mail catcher, for the foot of the screen. */
  servicesSummary: string;
  check(exercise: Exercise, onProgress: (progress: CheckProgress) => void): Promise<Verdict>;
  /** Ends the check under way early; its result will be stale anyway. */
  cancel(): void;
  /** Starts watching an exercise's files (and stops watching the previous one's). */
  watchFiles(exercise: Exercise): void;
  diff(exercise: Exercise): string;
  draw(screen: string): void;
  now(): number;
  columns(): number;
}

/**
 * WatchScreen is `npm run exercise` in a terminal: one state, one event
 * handler, as rustlings' watch mode has them. Every run of the check is
 * tagged with its exercise and the version of the files it saw, so a result
 * that comes back after the learner moved on, or saved again, is dropped
 * instead of shown under the wrong exercise.
 */
export class WatchScreen {
  readonly state: WatchState;
  #runs = 0;

  constructor(
    private readonly deps: WatchDeps,
    first: Exercise,
    opts: { manual: boolean; notice?: string },
  ) {
    this.state = {
      exercise: first,
      filesVersion: 0,
      run: undefined,
      checkAgain: false,
      last: undefined,
      panel: { kind: 'none' },
      unfold: false,
      manual: opts.manual,
      notice: opts.notice ?? '',
      quit: false,
    };
  }

  handle(event: WatchEvent): void {
    const s = this.state;
    switch (event.type) {
      case 'start':
        this.#goTo(s.exercise);
        break;
      case 'saved':
        s.filesVersion++;
        this.#closePanel();
        this.#check();
        break;
      case 'progress-file-changed':
        this.deps.progress.reload();
        break;
      case 'check-progress':
        if (s.run?.id !== event.run) return;
        s.run.progress = event.progress;
        break;
      case 'check-done':
      case 'check-crashed':
        this.#finished(event);
        break;
      case 'tick':
        if (!s.run) return; // only the seconds of a running check change
        break;
      case 'cannot-watch':
        s.manual = true;
        s.notice = 'This file system cannot be watched, so the check runs when you press r.';
        break;
      case 'key':
        this.#key(event.key);
        break;
    }
    if (!s.quit) this.deps.draw(this.screen());
  }

  /** #check runs the check now, or as soon as the one under way ends. */
  #check(): void {
    const s = this.state;
    if (s.run) {
      s.checkAgain = true;
      // Its result is stale: stop it early, so the new check starts sooner.
      if (s.run.filesVersion !== s.filesVersion || s.run.exercise !== s.exercise) this.deps.cancel();
      return;
    }
    const run: Run = { id: ++this.#runs, exercise: s.exercise, filesVersion: s.filesVersion, startedAt: this.deps.now(), progress: { total: 0, passed: 0, failed: 0 } };
    s.run = run;
    s.checkAgain = false;
    this.deps.check(run.exercise, (progress) => this.handle({ type: 'check-progress', run: run.id, progress })).then(
      (verdict) => this.handle({ type: 'check-done', run: run.id, verdict }),
      (error: Error) => this.handle({ type: 'check-crashed', run: run.id, error }),
    );
  }

  #finished(event: Extract<WatchEvent, { type: 'check-done' | 'check-crashed' }>): void {
    const s = this.state;
    const run = s.run;
    if (!run || run.id !== event.run) return;
    s.run = undefined;
    const current = run.exercise === s.exercise && run.filesVersion === s.filesVersion;
    if (current) {
      if (event.type === 'check-done') {
        s.last = { exercise: run.exercise, filesVersion: run.filesVersion, verdict: event.verdict };
        if (passed(event.verdict)) this.deps.progress.markSolved(run.exercise);
      } else {
        s.last = { exercise: run.exercise, filesVersion: run.filesVersion, crash: `The check itself failed: ${event.error.stack ?? String(event.error)}` };
      }
    }
    // A stale result is dropped; the check it was overtaken by runs now.
    if (s.checkAgain || !current) this.#check();
  }

  #goTo(exercise: Exercise): void {
    const s = this.state;
    if (exercise !== s.exercise && !s.manual) s.notice = '';
    s.exercise = exercise;
    s.filesVersion++;
    s.unfold = false;
    this.#closePanel();
    this.deps.watchFiles(exercise);
    this.#check();
  }

  #closePanel(): void {
    this.state.panel = { kind: 'none' };
  }

  #key(key: Key): void {
    const s = this.state;
    if ((key.ctrl && key.name === 'c') || key.name === 'q') {
      s.quit = true;
      return;
    }
    if (s.panel.kind === 'list') return this.#listKey(key);
    switch (key.name) {
      case 'escape':
        return this.#closePanel();
      case 'h':
        s.panel = { kind: 'hints', text: renderHints(s.exercise, this.deps.progress.seeHint(s.exercise), { interactive: true }) };
        return;
      case 'd':
        s.panel = { kind: 'diff', text: `${bold('Your files against the solution')} ${dim('(- yours, + the solution)')}\n${this.deps.diff(s.exercise)}` };
        return;
      case 'l':
        s.panel = { kind: 'list', input: '' };
        return;
      case 'f':
        s.unfold = !s.unfold;
        return;
      case 'n': {
        const next = EXERCISES.find((e) => e.number === s.exercise.number + 1);
        if (next) return this.#goTo(next);
        s.panel = { kind: 'message', text: yellow('This is the last exercise. Press l for the list.') };
        return;
      }
      case 'r':
        this.#closePanel();
        s.filesVersion++;
        return this.#check();
      default:
    }
  }

  #listKey(key: Key): void {
    const panel = this.state.panel as Extract<Panel, { kind: 'list' }>;
    if (key.name === 'escape') return this.#closePanel();
    if (key.name === 'return' || key.name === 'enter') {
      try {
        return this.#goTo(findExercise(panel.input));
      } catch (err) {
        panel.message = (err as Error).message;
        panel.input = '';
        return;
      }
    }
    if (key.name === 'backspace') panel.input = panel.input.slice(0, -1);
    else if (key.sequence && /^\d$/.test(key.sequence)) panel.input = `${panel.input}${key.sequence}`.slice(-2);
  }

  /** screen is what the terminal shows now. */
  screen(): string {
    const s = this.state;
    const out: string[] = [];
    const progress = this.deps.progress;
    if (s.panel.kind === 'diff') {
      out.push(s.panel.text, '', dim('Esc: back to the verdict'));
    } else if (s.panel.kind === 'list') {
      out.push(renderProgress((e) => progress.isSolved(e), s.exercise, this.deps.columns()), '');
      if (s.panel.message) out.push(yellow(s.panel.message));
      out.push(cyan(`Type a number and press Enter to go there: ${s.panel.input}`), dim('Esc: back to the verdict'));
    } else {
      const last = s.last?.exercise === s.exercise ? s.last : undefined;
      if (last?.crash) out.push(last.crash);
      else if (last?.verdict) {
        const open = EXERCISES.filter((e) => !progress.isSolved(e));
        out.push(renderVerdict(last.verdict, { hintsSeen: progress.hintsSeen(s.exercise), target: this.deps.target, interactive: true, unfold: s.unfold, open }));
      }
      if (s.run) {
        if (last) out.push('');
        out.push(this.#runLine(s.run, Boolean(last)));
      }
      if (s.panel.kind === 'hints' || s.panel.kind === 'message') out.push('', s.panel.text);
    }
    out.push('');
    if (s.notice) out.push(yellow(s.notice));
    const mode = s.manual ? 'manual mode: press r to check again' : `watching ${relative(ROOT, exerciseDir(s.exercise, this.deps.target))}/ — save a file to check again`;
    out.push(dim(`${mode}\n${this.deps.servicesSummary} · ${progress.solvedCount(EXERCISES)}/${EXERCISES.length} solved`));
    out.push(`${bold('h')} hint · ${bold('d')} diff · ${bold('l')} list · ${bold('n')} next · ${bold('r')} re-run · ${bold('f')} ${s.unfold ? 'fold' : 'unfold'} · ${bold('q')} quit`);
    return colour(out.join('\n'));
  }

  /** #runLine says how far the check has got: the test running, how many passed and failed, the seconds. */
  #runLine(run: Run, again: boolean): string {
    if (run.exercise !== this.state.exercise) {
      return yellow(`⟳ checking exercise ${pad2(this.state.exercise.number)} · first stopping the check of exercise ${pad2(run.exercise.number)}`);
    }
    const { total, passed: ok, failed, running } = run.progress;
    const seconds = `${Math.floor((this.deps.now() - run.startedAt) / 1000)} s`;
    const head = `⟳ ${again ? 'checking again' : `checking exercise ${pad2(run.exercise.number)}`}`;
    const counts = total > 0 ? `${ok + failed} of ${total} done: ${ok} passed, ${failed} failed` : 'starting';
    const now = running ? `\n  running: ${running}` : '';
    return yellow(`${head} · ${counts} · ${seconds}${now}`);
  }
}
