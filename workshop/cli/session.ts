import { PRESTART_FORKS_ENV, type Target } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';
import { Progress } from './progress.ts';
import { renderVerdict } from './render.ts';
import { CourseRunner, type OnProgress } from './runner.ts';
import { WARM_SOCKET_ENV, WarmProcesses } from '../warm/host.ts';
import { ensureServices, type CourseServices } from './services.ts';
import { passed, type Verdict } from '../shared/verdict.ts';

/**
 * Session is one `npm run exercise`: the services it found or started, a warm
 * runner, and the learner's progress. close() lets go of all of it.
 */
/** The part of CourseRunner a session uses. */
export type Runner = Pick<CourseRunner, 'run' | 'cancel' | 'close'>;

export class Session {
  constructor(
    readonly services: CourseServices,
    readonly runner: Runner,
    readonly progress: Progress,
    /** Whose files the checks run: the learner's, or (COURSE_TARGET=solutions) the solution's. */
    readonly target: Target,
    /** The learner's processes started ahead of time, for re-runs (watch mode). */
    readonly warm?: WarmProcesses,
  ) {}

  /** How many processes each exercise's check took last time, at most: as many wait for its next run. */
  readonly #processesUsed = new Map<Exercise, number>();
  /** The exercises whose last check passed: their next check may start its end-to-end part early. */
  readonly #lastPassed = new Set<Exercise>();

  /**
   * open finds or starts the services. Given the first exercise, it warms
   * Vitest and TypeScript up meanwhile. With `rerun` (the watch screen), the
   * learner's processes are started ahead of each re-run.
   */
  static async open(target: Target = 'exercises', first?: Exercise, opts: { rerun?: boolean } = {}): Promise<Session> {
    // Read by workshop/vitest.config.ts: re-runs also get their Vitest fork started ahead of time.
    if (opts.rerun) process.env[PRESTART_FORKS_ENV] = '1';
    const runner = new CourseRunner(target);
    if (first) runner.warmUp(first);
    let services: CourseServices;
    let warm: WarmProcesses | undefined;
    try {
      services = await ensureServices();
      if (opts.rerun) warm = await startWarmProcesses();
    } catch (err) {
      await runner.close();
      throw err;
    }
    runner.useServices(services.services);
    return new Session(services, runner, new Progress(), target, warm);
  }

  /**
   * run checks an exercise. Its processes, when it has some, are started
   * ahead of time: after this check, as many as it took wait for the next.
   */
  async run(exercise: Exercise, onProgress?: OnProgress): Promise<Verdict> {
    const warm = this.warm;
    if (!warm) return this.runner.run(exercise, onProgress);
    const wanted = this.#processesUsed.get(exercise) ?? 0;
    warm.want(wanted);
    const before = warm.handedOut;
    try {
      const verdict = await this.runner.run(exercise, onProgress, { earlyStart: this.#lastPassed.has(exercise) });
      if (passed(verdict)) this.#lastPassed.add(exercise);
      else this.#lastPassed.delete(exercise);
      return verdict;
    } finally {
      const used = Math.max(wanted, warm.handedOut - before);
      this.#processesUsed.set(exercise, used);
      warm.want(used);
    }
  }

  /** check runs an exercise's check, records a pass, and returns the verdict and its text. */
  async check(exercise: Exercise): Promise<{ verdict: Verdict; text: string; ok: boolean }> {
    const verdict = await this.run(exercise);
    const ok = passed(verdict);
    if (ok) this.progress.markSolved(exercise);
    const open = EXERCISES.filter((e) => !this.progress.isSolved(e));
    return { verdict, ok, text: renderVerdict(verdict, { hintsSeen: this.progress.hintsSeen(exercise), target: this.target, open }) };
  }

  async close(): Promise<void> {
    await this.runner.close();
    await this.warm?.close();
    await this.services.stop();
  }
}

/**
 * startWarmProcesses opens the host of started-ahead processes, and tells
 * Vitest's forks where it is. Not on Windows (no process groups to signal),
 * nor with COURSE_WARM=0, where each check starts its processes cold.
 */
async function startWarmProcesses(): Promise<WarmProcesses | undefined> {
  if (process.platform === 'win32' || process.env.COURSE_WARM === '0') return undefined;
  const warm = await WarmProcesses.start();
  process.env[WARM_SOCKET_ENV] = warm.socketPath;
  return warm;
}
