import { writeSync } from 'node:fs';
import type { DestinationStream, Logger } from 'pino';

/**
 * LOG_FLUSH_MS: the longest a JSON line waits in the buffer before it is
 * written, so that someone watching the log sees it at once, or near enough.
 */
export const LOG_FLUSH_MS = 100;

/**
 * LOG_BATCH_BYTES: buffered lines are written as soon as about this much has
 * gathered. It is what a pipe holds on Linux. Each write wakes the reader, and
 * that costs more than the bytes: with 8 KB batches, a busy worker ran about
 * 3% fewer jobs a second.
 */
export const LOG_BATCH_BYTES = 64 * 1024;

/** The most bytes one UTF-16 code unit of a string takes in UTF-8. */
const MAX_UTF8_BYTES = 3;

/** LOG_RETRY_MS: while stdout is a full pipe, how often the buffer tries again. */
const LOG_RETRY_MS = 1;

/**
 * LOG_EXIT_WAIT_MS: how long the flush on exit waits for a reader that does
 * not read (a full pipe) before it gives up on the last lines, as pino-pretty's
 * worker thread does: a process must end.
 */
const LOG_EXIT_WAIT_MS = 10_000;

/**
 * BufferedStdout is the destination of JSON log lines: they gather in memory
 * and are written to the file descriptor together, once LOG_BATCH_BYTES have
 * gathered and at the latest every LOG_FLUSH_MS (an unref'd timer: it never
 * keeps the process alive). A line written on its own costs a busy worker
 * more than the job it tells about; a write of many costs next to nothing
 * per line.
 *
 * Why not sonic-boom, pino's own destination? Both its modes fail here:
 * - `sync: false` leaves a batch in flight in libuv's thread pool, which the
 *   flush on exit can neither wait for nor write again: a process that
 *   exited then lost it (160 of 20,000 lines, in 3 of 12 runs of
 *   test/processes/log-lines.test.ts, SIGTERM case).
 * - `sync: true` sleeps 100 ms whenever stdout is a full pipe: with a reader
 *   busy half the time (a benchmark's parent), a loop of jobs ran 28,000 in
 *   2 s where it ran 93,000 with pino's default and 134,000 with this.
 * So each write is a non-blocking write(2) of the whole batch; what the pipe
 * does not take stays here, in order, and is tried again LOG_RETRY_MS later.
 * Nothing is ever in flight elsewhere, so flushSync always knows what is
 * left. The buffer grows while nobody reads (as pino's default did).
 *
 * Nothing is lost when the process ends: what is left is written on 'exit'
 * (process.exit anywhere, onShutdown's exit after a signal, an uncaught
 * exception, or the end of the work), waiting for the reader if need be, and
 * logger.fatal writes it at once. Once stdout is closed (EPIPE: the reader
 * is gone) lines are dropped.
 */
export class BufferedStdout implements DestinationStream {
  readonly #fd: number;
  /**
   * Lines not yet handed to write(2), as UTF-8 bytes: the first #used bytes.
   * A line is copied in as soon as it is logged. Kept as a string until the
   * batch went out, it would live through the young garbage collections of
   * the next 100 ms, and each would copy it: in a busy worker, that cost
   * more than writing it.
   */
  readonly #batch = Buffer.allocUnsafe(LOG_BATCH_BYTES);
  #used = 0;
  /** Bytes that go before the batch: what write(2) did not take, and batches that met a full pipe, in order. */
  readonly #waitingBytes: Buffer[] = [];
  #retry: NodeJS.Timeout | undefined;
  /** Set once writing failed for good (EPIPE): lines are dropped from then on. */
  #closed = false;
  /** flush callbacks, called once all is written. */
  #waiting: ((err?: Error) => void)[] = [];

  constructor(fd = 1) {
    this.#fd = fd;
    setInterval(() => this.#writeOut(), LOG_FLUSH_MS).unref();
  }

  /** write takes one line (pino calls it); it goes out with the batch. */
  write(line: string): void {
    if (this.#closed) return;
    // A UTF-16 unit takes at most 3 bytes in UTF-8: a full batch goes out (or, while the pipe is full, waits) first.
    if (this.#used + line.length * MAX_UTF8_BYTES > LOG_BATCH_BYTES) {
      if (this.#retry) this.#park();
      else this.#writeOut();
    }
    if (line.length * MAX_UTF8_BYTES > LOG_BATCH_BYTES) this.#waitingBytes.push(Buffer.from(line));
    else this.#used += this.#batch.write(line, this.#used);
  }

  /** flush writes what the pipe takes now, and calls back (never synchronously) once all is written: logger.flush. */
  flush(cb?: (err?: Error) => void): void {
    if (cb) this.#waiting.push(cb);
    this.#writeOut();
  }

  /**
   * flushSync writes everything before it returns, waiting for the reader if
   * the pipe is full, for LOG_EXIT_WAIT_MS at most. pino calls it after a
   * fatal line; bufferedStdout on exit.
   */
  flushSync(): void {
    const giveUpAt = Date.now() + LOG_EXIT_WAIT_MS;
    while (!this.#writeOut() && Date.now() < giveUpAt) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, LOG_RETRY_MS);
    }
  }

  /** Writes as much as the fd takes without waiting. True when nothing is left. */
  #writeOut(): boolean {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    try {
      // What the pipe did not take last time goes first; then the batch.
      while (this.#waitingBytes.length > 0) {
        const rest = this.#writeAll(this.#waitingBytes[0]!);
        if (rest) {
          this.#waitingBytes[0] = rest;
          break;
        }
        this.#waitingBytes.shift();
      }
      if (this.#waitingBytes.length === 0 && this.#used > 0) {
        const rest = this.#writeAll(this.#batch.subarray(0, this.#used));
        this.#used = 0;
        // The batch is filled again from the start: what the pipe did not take is copied out.
        if (rest) this.#waitingBytes.push(Buffer.from(rest));
      }
    } catch (err) {
      return this.#close(err as NodeJS.ErrnoException);
    }
    if (this.#waitingBytes.length > 0 || this.#used > 0) {
      this.#retry = setTimeout(() => this.#writeOut(), LOG_RETRY_MS).unref();
      return false;
    }
    for (const cb of this.#waiting.splice(0)) process.nextTick(cb);
    return true;
  }

  /** While the pipe is full, a full batch is copied out to wait its turn: the buffer grows while nobody reads. */
  #park(): void {
    this.#waitingBytes.push(Buffer.from(this.#batch.subarray(0, this.#used)));
    this.#used = 0;
  }

  /** Writes buf until it is all written, or the pipe is full (EAGAIN): then returns what is left. */
  #writeAll(buf: Buffer): Buffer | undefined {
    try {
      while (buf.length > 0) buf = buf.subarray(writeSync(this.#fd, buf));
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return buf;
      throw err;
    }
  }

  /** Nobody reads any more (EPIPE), or the fd is gone: drop the lines from now on. */
  #close(err: NodeJS.ErrnoException): true {
    this.#closed = true;
    this.#used = 0;
    this.#waitingBytes.length = 0;
    if (err.code !== 'EPIPE') process.stderr.write(`log lines can no longer be written to fd ${this.#fd}: ${err.message}\n`);
    for (const cb of this.#waiting.splice(0)) process.nextTick(cb, err);
    return true;
  }
}

let stdout: BufferedStdout | undefined;

/**
 * bufferedStdout returns this process's one BufferedStdout on fd 1. Every
 * logger of the process shares it, so their lines stay in order; it writes
 * what is left when the process exits. stop-with-parent.ts's 'exit' listener
 * runs before, and skips that when nobody reads stdout any more.
 */
export function bufferedStdout(): BufferedStdout {
  if (stdout) return stdout;
  const destination = new BufferedStdout(1);
  process.on('exit', () => destination.flushSync());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) flushBeforeDyingOf(signal, destination);
  return (stdout = destination);
}

/**
 * flushBeforeDyingOf covers a signal that comes before the process has a
 * handler of its own (onShutdown, registered once the app has started): Node
 * would end the process at once, without 'exit', and the lines of its last
 * 100 ms would be lost. So the buffer is written first, then the signal is
 * raised again, with no listener left, and does what it would have done. When
 * another listener is there, that one decides, and 'exit' writes the lines.
 */
function flushBeforeDyingOf(signal: NodeJS.Signals, destination: BufferedStdout): void {
  const listener = () => {
    if (process.listenerCount(signal) > 1) return;
    destination.flushSync();
    process.removeListener(signal, listener);
    process.kill(process.pid, signal);
  };
  process.on(signal, listener);
}

/** Marks the listener that logCrashes adds, so that a process adds one only. */
const CRASH_LISTENER = Symbol.for('background-jobs.logCrashes');

/**
 * logCrashes makes an uncaught exception, or an unhandled rejection that Node
 * treats as one, write a fatal line with the error before Node prints it to
 * stderr and exits 1: the log then says why it ends, not only stderr. It
 * listens on 'uncaughtExceptionMonitor', so the crash goes on as before; and
 * it stays quiet when an 'uncaughtException' listener takes the error, since
 * the process then goes on, or ends its own way. Only the first logger of a
 * process is used; later calls do nothing.
 */
export function logCrashes(logger: Logger): void {
  if (process.listeners('uncaughtExceptionMonitor').some((listener) => CRASH_LISTENER in listener)) return;
  const listener = (err: Error, origin: NodeJS.UncaughtExceptionOrigin) => {
    if (process.listenerCount('uncaughtException') > 0) return;
    // fatal writes the lines still buffered, then its own, at once.
    logger.fatal({ err }, origin === 'unhandledRejection' ? 'unhandled rejection: exiting' : 'uncaught exception: exiting');
  };
  process.on('uncaughtExceptionMonitor', Object.assign(listener, { [CRASH_LISTENER]: true }));
}
