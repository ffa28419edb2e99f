import type { Logger } from '../logger.ts';
import { stopTelemetry } from '../telemetry.ts';

/**
 * onShutdown runs `stop` once on SIGTERM or Ctrl-C, sends the spans still
 * buffered (with tracing on), then exits 0 (1 if stop throws). A second
 * Ctrl-C exits at once, for the impatient.
 */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: shutting down`);
    stop()
      .finally(() => stopTelemetry().catch((err: unknown) => log.warn({ err }, 'could not send the last spans')))
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
