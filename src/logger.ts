import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * createLogger returns a pino logger named after the process. In a terminal
 * it prints pretty lines; piped (CI, `npm start`'s labelled output) it prints
 * JSON, one line per event. LOG_LEVEL=silent quiets it in tests.
 */
export function createLogger(name: string): Logger {
  const pretty = process.stdout.isTTY || process.env.LOG_PRETTY === 'true';
  return pino({
    name,
    level: process.env.LOG_LEVEL || 'info',
    // Never log secrets, even if someone logs a whole config object.
    redact: ['password', '*.password', 'smtpUrl', 'redisUrl', 'config.smtpUrl', 'config.redisUrl'],
    transport: pretty
      ? { target: 'pino-pretty', options: { colorize: true, singleLine: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' } }
      : undefined,
  });
}
