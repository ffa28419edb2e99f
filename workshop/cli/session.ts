import type { Target } from '../course.ts';
import { EXERCISES, type Exercise } from '../manifest.ts';
import { Progress } from './progress.ts';
import { renderVerdict } from './render.ts';
import { CourseRunner } from './runner.ts';
import { ensureServices, type CourseServices } from './services.ts';
import { passed, type Verdict } from './verdict.ts';

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
  ) {}

  /** open finds or starts the services. Given the first exercise, it warms Vitest and TypeScript up meanwhile. */
  static async open(target: Target = 'exercises', first?: Exercise): Promise<Session> {
    const runner = new CourseRunner(target);
    if (first) runner.warmUp(first);
    let services: CourseServices;
    try {
      services = await ensureServices();
    } catch (err) {
      await runner.close();
      throw err;
    }
    runner.useServices(services.services);
    return new Session(services, runner, new Progress(), target);
  }

  /** check runs an exercise's check, records a pass, and returns the verdict and its text. */
  async check(exercise: Exercise): Promise<{ verdict: Verdict; text: string; ok: boolean }> {
    const verdict = await this.runner.run(exercise);
    const ok = passed(verdict);
    if (ok) this.progress.markSolved(exercise);
    const open = EXERCISES.filter((e) => !this.progress.isSolved(e));
    return { verdict, ok, text: renderVerdict(verdict, { hintsSeen: this.progress.hintsSeen(exercise), target: this.target, open }) };
  }

  async close(): Promise<void> {
    await this.runner.close();
    await this.services.stop();
  }
}
