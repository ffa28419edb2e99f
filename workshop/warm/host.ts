import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../course.ts';

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));

/** WARM_SOCKET_ENV names the host's socket for the checks, which Vitest's forks inherit. */
export const WARM_SOCKET_ENV = 'COURSE_WARM_SOCKET';


/** What a check asks for, one line of JSON on the socket: run.ts's arguments and the whole environment of the process. */
export interface WarmRequest {
  args: string[];
  env: Record<string, string>;
}

/**
 * What the host answers, one line of JSON each: first where the process is,
 * then, when it has ended, how.
 */
export type WarmAnswer = { pid: number; output: string } | { exit: { code: number | null; signal: NodeJS.Signals | null } };

interface Waiting {
  child: ChildProcess;
  output: string;
}

/**
 * WarmProcesses keeps a few learner's processes started ahead of time, so
 * that a check's `node --import tsx workshop/run.ts worker 4` does not pay
 * for loading BullMQ, Hono and the rest each time (about 0.6 s of a 0.7 s
 * start). It lives in the `npm run exercise` process; the checks, in Vitest's
 * forks, ask for a process on a Unix socket, read its output from a file and
 * signal its process group themselves. Each process serves one check, then
 * a fresh one takes its place.
 */
export class WarmProcesses {
  readonly #dir = mkdtempSync(join(tmpdir(), 'workshop-warm-'));
  readonly socketPath = join(this.#dir, 'host.sock');
  readonly #waiting: Waiting[] = [];
  /** Every process started, waiting or given out: all are stopped on close. */
  readonly #all = new Set<ChildProcess>();
  #server: Server | undefined;
  #started = 0;
  #closed = false;

  /** How many started processes should wait. */
  #ready = 0;
  /** How many processes have been given out since the host opened. */
  handedOut = 0;

  private constructor() {}

  /** start opens the host's socket. No process waits until want() asks for some. */
  static async start(): Promise<WarmProcesses> {
    const host = new WarmProcesses();
    host.#server = createServer((socket) => host.#serve(socket));
    await new Promise<void>((resolve, reject) => {
      host.#server!.once('error', reject);
      host.#server!.listen(host.socketPath, resolve);
    });
    return host;
  }

  /**
   * want has `count` processes wait, starting the missing ones now and
   * stopping the rest. A process given out is not replaced until the next
   * want(): starting one costs most of a second of CPU, which a check under
   * way should not have to share.
   */
  want(count: number): void {
    this.#ready = count;
    for (const { child } of this.#waiting.splice(count)) kill(child, 'SIGKILL');
    this.#fill();
  }

  /** close stops every process this host started, and its socket. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const child of this.#all) kill(child, 'SIGKILL');
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** #fill starts processes until enough of them wait. */
  #fill(): void {
    while (!this.#closed && this.#waiting.length < this.#ready) this.#waiting.push(this.#startOne());
  }

  #startOne(): Waiting {
    const output = join(this.#dir, `process-${++this.#started}.log`);
    // stdout and stderr share one file, in the order they were written, as they share a pipe.
    const fd = openSync(output, 'a');
    const child = spawn(process.execPath, [CHILD], {
      cwd: ROOT,
      // A process group of its own, as a terminal gives a command: a Ctrl-C is a SIGINT to the group.
      detached: true,
      stdio: ['pipe', fd, fd],
    });
    closeSync(fd);
    this.#all.add(child);
    child.once('exit', () => this.#all.delete(child));
    child.on('error', () => this.#all.delete(child));
    return { child, output };
  }

  #serve(socket: Socket): void {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end < 0) return;
      socket.removeAllListeners('data');
      this.#handOut(JSON.parse(text.slice(0, end)) as WarmRequest, socket);
    });
  }

  #handOut(request: WarmRequest, socket: Socket): void {
    let next = this.#waiting.shift();
    // One that died while it waited (killed from outside, say) is no use.
    while (next && (next.child.exitCode !== null || next.child.signalCode !== null)) next = this.#waiting.shift();
    const { child, output } = next ?? this.#startOne();
    this.handedOut++;
    const answer = (message: WarmAnswer) => socket.writable && socket.write(`${JSON.stringify(message)}\n`);
    child.once('exit', (code, signal) => {
      answer({ exit: { code, signal } });
      socket.end();
      rmSync(output, { force: true });
    });
    // The check that asked is gone (its fork ended): its process goes too.
    socket.once('close', () => kill(child, 'SIGKILL'));
    child.stdin?.end(`${JSON.stringify(request)}\n`);
    answer({ pid: child.pid!, output });
  }
}

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
