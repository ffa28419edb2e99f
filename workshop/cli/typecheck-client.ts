import { Worker } from 'node:worker_threads';
import type { CheckAnswer } from './typecheck-thread.ts';
import type { TypeProblem } from './typecheck.ts';

/**
 * TypeCheckThread type-checks files in a thread of its own, so that a verdict
 * waits for the slower of the tests and the type check, not for both one after
 * the other. The thread keeps TypeScript's work between checks.
 */
export class TypeCheckThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (p: TypeProblem[]) => void; reject: (e: Error) => void }>();
  #next = 0;
  /** Why the thread is gone, once it is. */
  #dead: Error | undefined;

  constructor() {
    // A worker thread does not inherit this process's --import tsx: register tsx, then load the TypeScript file.
    const entry = new URL('./typecheck-thread.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
    this.#worker = new Worker(boot, { eval: true });
    this.#worker.on('message', (answer: CheckAnswer) => {
      const waiter = this.#waiting.get(answer.id);
      this.#waiting.delete(answer.id);
      if (this.#waiting.size === 0) this.#worker.unref();
      if ('error' in answer) waiter?.reject(new Error(`the type check failed: ${answer.error}`));
      else waiter?.resolve(answer.problems);
    });
    const die = (err: Error) => {
      this.#dead ??= err;
      for (const waiter of this.#waiting.values()) waiter.reject(this.#dead);
      this.#waiting.clear();
    };
    this.#worker.on('error', die);
    this.#worker.on('exit', (code) => die(new Error(`the type check thread stopped (exit code ${code})`)));
    // The thread keeps the process alive only while a check is under way.
    this.#worker.unref();
  }

  /** check returns the type errors in the files. */
  check(files: string[]): Promise<TypeProblem[]> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, files });
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
