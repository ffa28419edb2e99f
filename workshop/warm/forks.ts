import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ForksPoolWorker, type PoolOptions, type PoolRunnerInitializer } from 'vitest/node';

/** PRESTARTED_FORKS is the pool's name in workshop/vitest.config.ts. */
export const PRESTARTED_FORKS = 'prestarted-forks';

const PRELOAD = fileURLToPath(new URL('./fork-preload.mjs', import.meta.url));

/** Forks started ahead of the next check, by the options they were started with. */
const stock = new Map<string, ChildProcess>();

/**
 * PrestartedForks is Vitest's forks pool, with the fork of the next check
 * started ahead of time. Each check runs its suite in a new fork; starting it
 * and loading the packages the suite imports costs 0.3 to 0.5 s of every
 * re-run. This pool starts the next fork, with those packages loaded
 * (fork-preload.mjs), when a check ends, while the learner reads the verdict,
 * and hands it to the next check. A fork still serves one check only.
 */
class PrestartedForks extends ForksPoolWorker {
  override readonly name = PRESTARTED_FORKS;
  readonly #key: string;

  constructor(options: PoolOptions) {
    super(options);
    this.#key = JSON.stringify([this.env, this.execArgv]);
  }

  override async start(): Promise<void> {
    const ready = stock.get(this.#key);
    stock.delete(this.#key);
    // One that died while it waited is no use: the pool starts its own.
    if (ready && ready.exitCode === null && ready.signalCode === null) (this as unknown as { _fork?: ChildProcess })._fork = ready;
    await super.start();
  }

  override async stop(): Promise<void> {
    await super.stop();
    if (stock.has(this.#key)) return;
    // The same options as ForksPoolWorker's own fork, and the packages loaded first.
    const next = fork(this.entrypoint, [], {
      env: this.env,
      execArgv: [...this.execArgv, '--import', PRELOAD],
      stdio: 'pipe',
      serialization: 'advanced',
    });
    next.on('error', () => stock.delete(this.#key));
    stock.set(this.#key, next);
  }
}

/** prestartedForks is the pool for workshop/vitest.config.ts. */
export const prestartedForks: PoolRunnerInitializer = {
  name: PRESTARTED_FORKS,
  createPoolWorker: (options) => new PrestartedForks(options),
};

/** stopPrestartedForks stops the forks that wait, when the session ends. */
export function stopPrestartedForks(): void {
  for (const child of stock.values()) child.kill('SIGKILL');
  stock.clear();
}
