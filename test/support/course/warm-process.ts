import { EventEmitter } from 'node:events';
import { closeSync, openSync, readSync } from 'node:fs';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import type { WarmAnswer, WarmRequest } from '../../../workshop/warm/host.ts';
import { adoptProcess, type ChildScript, type Spawned } from '../child-script.ts';

/** READ_EVERY_MS: how often the process's output file is read for new lines. */
const READ_EVERY_MS = 10;

/**
 * WarmChild stands for a learner's process that `npm run exercise` started
 * ahead of time (workshop/warm/host.ts): its output comes from the file the
 * host gave it, its end from the host's message, and a signal goes straight
 * to its process group. Signals sent before the host has answered wait.
 */
class WarmChild extends EventEmitter {
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly stdout = new PassThrough();
  readonly stderr = null;
  readonly #pending: NodeJS.Signals[] = [];

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false;
    if (!this.pid) {
      this.#pending.push(signal);
      return true;
    }
    try {
      process.kill(-this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  started(pid: number): void {
    this.pid = pid;
    for (const signal of this.#pending.splice(0)) this.kill(signal);
  }

  ended(code: number | null, signal: NodeJS.Signals | null): void {
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
    this.emit('close', code, signal);
  }
}

/**
 * warmProcess asks the host at socketPath for a started process and has it
 * run `workshop/run.ts` with these arguments and this environment. It returns
 * at once, as spawnCommand() does; the output follows as it comes.
 */
export function warmProcess(socketPath: string, request: WarmRequest, label: string): ChildScript {
  const child = new WarmChild();
  const script = adoptProcess(child as unknown as Spawned, label);
  const socket = connect(socketPath);
  let reader: NodeJS.Timeout | undefined;
  let fd: number | undefined;
  const buffer = Buffer.alloc(64 * 1024);
  const readNew = () => {
    if (fd === undefined) return;
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) child.stdout.write(Buffer.from(buffer.subarray(0, n)));
  };
  let ended = false;
  const end = (code: number | null, signal: NodeJS.Signals | null) => {
    if (ended) return;
    ended = true;
    clearInterval(reader);
    readNew(); // the last lines before the end
    if (fd !== undefined) closeSync(fd);
    child.ended(code, signal);
  };

  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n')) {
      const answer = JSON.parse(text.slice(0, at)) as WarmAnswer;
      text = text.slice(at + 1);
      if ('pid' in answer) {
        fd = openSync(answer.output, 'r');
        reader = setInterval(readNew, READ_EVERY_MS);
        child.started(answer.pid);
      } else {
        end(answer.exit.code, answer.exit.signal);
      }
    }
  });
  socket.on('error', (err) => {
    if (child.pid) return; // the end comes through 'close'
    child.emit('error', new Error(`the warm process host did not answer: ${err.message}`));
    ended = true;
  });
  socket.on('close', () => end(null, null));
  socket.write(`${JSON.stringify(request)}\n`);
  return script;
}
