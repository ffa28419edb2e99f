import type { ChildProcessWithoutNullStreams, ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** A child whose stdout and stderr are pipes, as a service's must be for its last lines. */
type PipedChild = ChildProcessWithoutNullStreams | ChildProcessByStdio<Writable | null, Readable, Readable>;

/** A service binary this process started (redis-server, MailHog), watched until it stops. */
export interface ServiceProcess {
  /** Why it is gone, once it is: it could not start, or it exited, with its last lines. */
  exited(): string | undefined;
  /** The last lines it wrote, for an error message. */
  lastLines(): string;
  /** SIGTERM, so that it shuts down cleanly; SIGKILL if it is still there 5 s later. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

/**
 * watchService keeps the tail of a service's output and the reason it ended,
 * and kills it with this process should this process exit without stopping
 * it. `name` starts its messages; `spawnError` words a failure to start.
 */
export function watchService(child: PipedChild, name: string, spawnError = (err: NodeJS.ErrnoException) => `${name} could not start: ${err.message}`): ServiceProcess {
  // A service may log a lot (MailHog, every SMTP conversation): keep only the tail.
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const lastLines = () => output.trim().split('\n').slice(-4).join('\n');
  let exited: string | undefined;
  child.once('error', (err: NodeJS.ErrnoException) => (exited = spawnError(err)));
  child.once('exit', (code, signal) => (exited ??= `${name} exited (${signal ?? `exit code ${code}`}):\n${lastLines()}`));

  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));

  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const signalAndWait = async (signal: NodeJS.Signals, forceAfterMs?: number) => {
    if (gone()) return;
    const done = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const force = forceAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), forceAfterMs);
    await done;
    clearTimeout(force);
  };
  return {
    exited: () => exited,
    lastLines,
    stop: () => signalAndWait('SIGTERM', 5_000),
    kill: () => signalAndWait('SIGKILL'),
  };
}
