// A process the benchmark starts the way a user would (`npm run worker` is
// `node --import tsx src/cmd/worker.ts`), with its output going to a pipe that
// is read and thrown away.
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from '../workshop/course.ts';

export interface Child {
  process: ChildProcess;
  /** The text that matched `ready`. */
  readyText: string;
  /** stop sends SIGTERM and resolves when the process has exited. */
  stop(): Promise<void>;
}

/** The last output of the process, for the error when it dies or never gets ready. */
const TAIL_CHARS = 4_000;

export interface NodeOptions {
  /** Extra node flags, such as --cpu-prof. */
  nodeArgs?: string[];
  /** Where to run it. Default: the repository's root. */
  cwd?: string;
}

/**
 * startNode runs `node [nodeArgs] --import tsx <script>` with `env` added to
 * ours, and resolves once its output matches `ready`.
 */
export async function startNode(script: string, env: Record<string, string>, ready: RegExp, opts: NodeOptions = {}): Promise<Child> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', script], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  let onOutput: (() => void) | undefined;
  // Once the process is ready its output is only drained, as a pipe to /dev/null would.
  const keep = (chunk: Buffer) => {
    if (!onOutput) return;
    tail = (tail + chunk.toString()).slice(-TAIL_CHARS);
    onOutput();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let onExit: ((why: string) => void) | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      onExit?.(`${script} exited (${signal ?? code})`);
      resolve();
    }),
  );

  const readyText = await new Promise<string>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${why}:\n${tail}`));
    };
    const timer = setTimeout(() => fail(`${script} was not ready within 30 s`), 30_000);
    onExit = fail;
    onOutput = () => {
      const match = ready.exec(tail);
      if (!match) return;
      clearTimeout(timer);
      onOutput = onExit = undefined;
      resolve(match[0]);
    };
  });

  return {
    process: child,
    readyText,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(force);
    },
  };
}
