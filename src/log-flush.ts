import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * LOG_FLUSH_MS: the longest a JSON line waits in the buffer before it is
 * written, so that someone watching the log sees it at once, or near enough.
 */
export const LOG_FLUSH_MS = 100;

/**
 * LOG_BUFFER_BYTES: buffered JSON lines are written as soon as this much has
 * gathered, 30 to 80 lines per write instead of one. Below sonic-boom's 16 KB
 * maxWrite, as it must be.
 */
export const LOG_BUFFER_BYTES = 8 * 1024;

let stdout: ReturnType<typeof pino.destination> | undefined;

/**
 * bufferedStdout returns this process's one destination for JSON lines: they
 * gather in memory and are written to stdout together, once LOG_BUFFER_BYTES
 * have gathered and at the latest every LOG_FLUSH_MS (an unref'd timer: it
 * never keeps the process alive). A line written on its own costs a busy
 * worker more than the job it tells about; a write of many costs next to
 * nothing per line. Every logger of the process shares it, so their lines
 * stay in order.
 *
 * Each write is one synchronous write(2) of the whole batch. Asynchronous
 * writes (sonic-boom's `sync: false`) were tried: they leave a batch in
 * flight in libuv's thread pool, which the flush on exit cannot wait for,
 * and a process that exited just then lost it (160 lines of 20,000 in 3 of
 * 12 runs of the SIGTERM case of test/processes/log-lines.test.ts). While
 * stdout is a full pipe, a write waits for the reader (sonic-boom retries
 * every 100 ms) instead of letting the buffer grow.
 *
 * Nothing is lost when the process ends: what is still buffered is written on
 * 'exit' (process.exit anywhere, onShutdown's exit after a signal, an uncaught
 * exception, or the end of the work), and logger.fatal writes it at once.
 */
export function bufferedStdout(): DestinationStream {
  if (stdout) return stdout;
  const destination = pino.destination({ dest: 1, sync: true, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS });
  // pino writes what is left on exit for `sync: false` destinations only: say it for this one.
  // stop-with-parent.ts runs first and skips it when nobody reads stdout any more.
  process.on('exit', () => {
    try {
      destination.flushSync();
    } catch {
      // ended already (it throws "SonicBoom destroyed"): nothing is left to write
    }
  });
  return (stdout = destination);
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
