import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { useColour } from './colour.ts';
import { bufferedStdout, logCrashes } from './log-flush.ts';
import { secretScrubber, secretsOf } from './log-secrets.ts';

export type { Logger };

/** What a redacted field reads, as pino's redact writes it. */
const CENSOR = '[Redacted]';

/**
 * createLogger returns a pino logger named after the process. In a terminal
 * (or with LOG_PRETTY=true, as `npm start` sets) it prints pretty lines;
 * piped (CI, benchmarks) it prints JSON, one line per event. LOG_LEVEL=silent
 * quiets it in tests. Tests may hand in a destination for the JSON lines.
 *
 * Lines cost the caller little: JSON lines are buffered and written many at
 * a time, at the latest 100 ms after they were logged (see bufferedStdout);
 * pretty lines are formatted and written by pino-pretty in a worker thread.
 * None is lost when the process ends, and an uncaught exception or unhandled
 * rejection first logs a fatal line that says why (see logCrashes).
 *
 * No line it writes contains a secret of this process (see log-secrets.ts).
 */
export function createLogger(name: string, destination?: DestinationStream): Logger {
  const pretty = process.stdout.isTTY || process.env.LOG_PRETTY === 'true';
  const secrets = secretsOf(process.env);
  const options: LoggerOptions = {
    name,
    level: process.env.LOG_LEVEL || 'info',
    // Never log secrets, even if someone logs a whole config object. A password one
    // level down (`{ admin: { password } }`) is censored by censorNestedPasswords:
    // pino's '*.password' would run its redaction on every field of every line.
    redact: ['password', 'smtpUrl', 'redisUrl', 'config.smtpUrl', 'config.redisUrl'],
    formatters: { log: censorNestedPasswords },
    // redact only knows the fields it is told about. A password can also hide in an
    // error's details (a failed login's command, a URL in a message): so each line
    // is scrubbed of the secrets themselves, wherever they are, before it is written.
    // pino calls this hook in this thread, before the line goes to pino-pretty's
    // worker thread, so pretty output is scrubbed too.
    hooks: secrets.length > 0 ? { streamWrite: secretScrubber(secrets) } : {},
  };
  const logger = pretty
    ? pino({
        ...options,
        transport: { target: 'pino-pretty', options: { colorize: useColour(process.stdout.isTTY), singleLine: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' } },
      })
    : pino(options, destination ?? bufferedStdout());
  logCrashes(logger);
  // A child's bindings are written on each of its lines: censor them the same way.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, censorNestedPasswords(bindings), options);
  } as Logger['child'];
  return logger;
}

/** censorNestedPasswords censors the `password` of each object among the fields. It copies only what it changes. */
function censorNestedPasswords<T extends object>(fields: T): T {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    const value: unknown = (fields as Record<string, unknown>)[key];
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, 'password')) continue;
    copy ??= { ...fields } as Record<string, unknown>;
    copy[key] = withPasswordCensored(value);
  }
  return (copy as T | undefined) ?? fields;
}

function withPasswordCensored(value: object): object {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>, value);
  // An error's message and stack are its own but not enumerable: keep them.
  if (value instanceof Error) Object.assign(copy, { message: value.message, stack: value.stack });
  copy.password = CENSOR;
  return copy;
}
