import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** LogCapture is a logger that keeps its JSON lines, for in-process workers. */
export interface LogCapture {
  logger: Logger;
  lines(): string[];
}

export function captureLog(): LogCapture {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines: () => lines };
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SHOWN = ['job', 'task', 'queue', 'attempt', 'error'];

/**
 * formatLogLines turns pino's JSON lines into what the worker prints in a
 * terminal: `12:00:01.234 INFO job started job=7 task=send_welcome`. Lines
 * that are not JSON are kept as they are.
 */
export function formatLogLines(lines: string[]): string {
  return lines
    .map((line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return line;
      }
      if (typeof entry !== 'object' || entry === null || !('msg' in entry)) return line;
      const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
      const fields = SHOWN.filter((key) => entry[key] !== undefined && !String(entry.msg).includes(String(entry[key])))
        .map((key) => `${key}=${String(entry[key])}`)
        .join(' ');
      return [time, LEVELS[entry.level as number] ?? '', entry.msg, fields].filter(Boolean).join(' ');
    })
    .join('\n');
}
