import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A TypeScript script running as a child process, its output captured. */
export interface ChildScript {
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string;
  /**
   * Resolves with the matched text once the output matches `re`. Rejects when
   * the process exits first, or after timeoutMs, with the output in the error.
   */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends a signal (default SIGTERM). */
  kill(signal?: NodeJS.Signals): void;
  /** Settles when the process has exited. */
  exited: Promise<{ code: number | null; signal: string | null }>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const children = new Set<ChildProcess>();

// Should a test forget stopAll(), children still die with the worker.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Runs `node --import tsx <scriptPath>` (path relative to the project root)
 * with process.env plus `env`, LOG_LEVEL=info unless `env` says otherwise.
 * Output goes to pipes, not a TTY, so pino writes JSON lines.
 */
export function spawnScript(scriptPath: string, env: Record<string, string>, label: string): ChildScript {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, scriptPath)], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);

  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  const exited = new Promise<{ code: number | null; signal: string | null }>((done) => {
    child.once('error', (err) => {
      output += `\n[harness] ${label} failed to start: ${err.message}\n`;
      children.delete(child);
      done({ code: null, signal: null });
    });
    child.once('close', (code, signal) => {
      children.delete(child);
      done({ code, signal });
    });
  });

  return {
    output: () => output,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
    exited,
    waitForOutput(re, timeoutMs = 10_000) {
      const pattern = new RegExp(re.source, re.flags.replace(/[gy]/g, '')); // no lastIndex state
      return new Promise((resolvePromise, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const finish = (err: Error | undefined, text = '') => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolvePromise(text);
        };
        const fail = (why: string) =>
          finish(new Error(`${label}: ${why} before its output matched ${re}. Output:\n${tail(output)}`));
        const check = () => {
          const match = pattern.exec(output);
          if (match) finish(undefined, match[0]);
        };
        listeners.add(check);
        timer = setTimeout(() => fail(`no match within ${timeoutMs} ms`), timeoutMs);
        void exited.then(({ code, signal }) => {
          check(); // the last chunk may hold the match
          if (listeners.has(check)) fail(`exited (${signal ?? code})`);
        });
        check();
      });
    },
  };
}

/** SIGKILLs every script still running and waits until they are gone; for afterAll/afterEach. */
export async function stopAll(): Promise<void> {
  const running = [...children];
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('close', () => done());
          child.kill('SIGKILL');
        }),
    ),
  );
}

function tail(text: string, max = 4_000): string {
  return text.length > max ? `...${text.slice(-max)}` : text;
}
