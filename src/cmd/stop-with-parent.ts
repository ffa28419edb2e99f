/**
 * stopWithParent makes this process stop when the process that started it is
 * gone, if that process gave it an IPC channel (npm start starts the API, the
 * worker and the scheduler that way). The channel closes when the parent dies,
 * however it dies, SIGKILL included; that is taken as a SIGTERM, sent to this
 * process, so it stops as SIGTERM stops it: cleanly once onShutdown listens,
 * at once before. Started without a channel (`npm run worker`), it does
 * nothing. Call it first thing, before any await: npm start loads
 * stop-with-parent-preload.ts into each app for that.
 */
export function stopWithParent(): void {
  if (!process.send) return; // no IPC channel
  process.channel?.unref(); // the channel alone does not keep this process alive
  // The channel may have closed while this process was still loading its modules.
  if (!process.connected) stopWithoutOutput();
  else process.once('disconnect', stopWithoutOutput);
}

/**
 * The parent read our stdout and stderr, so from now on writing to them fails
 * (EPIPE). Let them fail, and skip the logger's flush on exit: it would retry
 * its last lines for 10 s (pino-pretty) or for ever (JSON) into a pipe that
 * nobody reads.
 */
function stopWithoutOutput() {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  // Runs before the other 'exit' listeners, once the SIGTERM path exits;
  // process.exit() called from an 'exit' listener exits at once, code kept.
  process.prependOnceListener('exit', () => process.exit());
  process.kill(process.pid, 'SIGTERM');
}
