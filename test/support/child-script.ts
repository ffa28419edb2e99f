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
  /** Sends a signal (default SIGTERM); to the whole process group for spawnCommand(). */
  kill(signal?: NodeJS.Signals): void;
  /** Settles when the process has exited. */
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** The process id (of the command's process for spawnCommand()). */
  pid: number;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Each running child, and whether it leads a process group of its own. */
const children = new Map<Spawned, { group: boolean }>();

// Should a test forget stopAll(), children still die with the worker.
process.once('exit', () => {
  for (const [child, { group }] of children) signal(child, group, 'SIGKILL');
});

/**
 * Runs `node --import tsx <scriptPath> [...args]` (path relative to the project
 * root) with process.env plus `env`, LOG_LEVEL=info unless `env` says otherwise.
 * Output goes to pipes, not a TTY, so pino writes JSON lines.
 */
export function spawnScript(scriptPath: string, env: Record<string, string>, label: string, args: string[] = []): ChildScript {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, scriptPath), ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watch(child, label, false);
}

/**
 * Runs a shell command from the project root as a terminal would: in a
 * process group of its own, so kill('SIGINT') is a Ctrl-C that reaches every
 * process of the command. The shell execs the command, as an interactive
 * shell runs a foreground job: no shell stays between it and the signal, and
 * its exit code is the command's. Env and output as spawnScript.
 */
export function spawnCommand(command: string, env: Record<string, string>, label: string): ChildScript {
  const child = spawn(`exec ${command}`, {
    cwd: ROOT,
    shell: true,
    detached: true,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watch(child, label, true);
}

/**
 * Spawned is the part of a ChildProcess that the harness uses, so that a
 * process started elsewhere (workshop/warm/) can be watched the same way.
 */
export type Spawned = Pick<ChildProcess, 'pid' | 'stdout' | 'stderr' | 'exitCode' | 'signalCode' | 'kill' | 'once'>;

/**
 * adoptProcess watches a process that was started elsewhere, leading a
 * process group of its own, as spawnCommand() watches its own.
 */
export function adoptProcess(child: Spawned, label: string): ChildScript {
  return watch(child, label, true);
}

function watch(child: Spawned, label: string, group: boolean): ChildScript {
  children.set(child, { group });

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
      // A group may outlive its leader (npx, tsx): stopAll() still kills it.
      if (!group) children.delete(child);
      done({ code, signal });
    });
  });

  return {
    // A process started elsewhere may learn its pid a moment later.
    get pid() {
      return child.pid!;
    },
    output: () => output,
    kill: (sig = 'SIGTERM') => signal(child, group, sig),
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
      ([child, { group }]) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            // The shell is gone, but what it started may still run.
            if (group) signal(child, group, 'SIGKILL');
            children.delete(child);
            return done();
          }
          child.once('close', () => {
            children.delete(child);
            done();
          });
          signal(child, group, 'SIGKILL');
        }),
    ),
  );
}

function signal(child: Spawned, group: boolean, sig: NodeJS.Signals): void {
  try {
    if (group && child.pid) process.kill(-child.pid, sig);
    else child.kill(sig);
  } catch {
    // already gone
  }
}

function tail(text: string, max = 4_000): string {
  return text.length > max ? `...${text.slice(-max)}` : text;
}
