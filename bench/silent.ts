import { pino } from 'pino';

/** A logger that prints nothing, so the benchmark measures work, not logging. */
export const silent = pino({ level: 'silent' });
