import { pino, type Logger } from 'pino';
import { secretScrubber, secretsOf } from './log-secrets.ts';

export type { Logger };

/**
 * createLogger returns a pino logger named after the process. In a terminal
 * it prints pretty lines; piped (CI, `npm start`'s labelled output) it prints
 * JSON, one line per event. LOG_LEVEL=silent quiets it in tests.
 *
 * No line it writes contains a secret of this process (see log-secrets.ts).
 */
export function createLogger(name: string): Logger {
  const pretty = process.stdout.isTTY || process.env.LOG_PRETTY === 'true';
  return pino({
    name,
    level: process.env.LOG_LEVEL || 'info',
    // Never log secrets, even if someone logs a whole config object.
    redact: ['password', '*.password', 'smtpUrl', 'redisUrl', 'config.smtpUrl', 'config.redisUrl'],
    // redact only knows the fields it is told about. A password can also hide in an
    // error's details (a failed login's command, a URL in a message): so each line
    // is scrubbed of the secrets themselves, wherever they are, before it is written.
    // pino calls this hook in this thread, before the line goes to pino-pretty's
    // worker thread, so pretty output is scrubbed too.
    hooks: { streamWrite: secretScrubber(secretsOf(process.env)) },
    transport: pretty
      ? { target: 'pino-pretty', options: { colorize: true, singleLine: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' } }
      : undefined,
  });
}
