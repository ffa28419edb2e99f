/** UNIT_MS is what each duration suffix means, in milliseconds. */
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** MAX_DURATION_MS is the longest duration parseDuration accepts: 365 days. */
export const MAX_DURATION_MS = 365 * UNIT_MS.d;

const DURATION = /^(\d{1,6})([smhd])$/;

/**
 * parseDuration turns a whole number and a unit, "30s", "10m", "2h" or "7d",
 * into milliseconds. It throws a RangeError that says what it expected for
 * anything else, for zero, and beyond MAX_DURATION_MS.
 */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text);
  if (!match) throw new RangeError(`${quote(text)} is not a duration: use a whole number and s, m, h or d, like 30s, 10m, 2h or 7d`);
  const ms = Number(match[1]) * UNIT_MS[match[2] as Unit];
  if (ms === 0) throw new RangeError('a duration must be more than 0');
  if (ms > MAX_DURATION_MS) throw new RangeError(`${text} is too long: at most ${MAX_DURATION_MS / UNIT_MS.d}d`);
  return ms;
}

/**
 * formatDuration prints milliseconds in its two largest units: 90_000 gives
 * "1m 30s", 7 days "7d". Under a second gives "0s"; negative counts as 0.
 */
export function formatDuration(ms: number): string {
  const units = ['d', 'h', 'm', 's'] as const;
  const largest = units.findIndex((unit) => ms >= UNIT_MS[unit]);
  if (largest === -1) return '0s';
  let rest = ms;
  const parts: string[] = [];
  for (const unit of units.slice(largest, largest + 2)) {
    const count = Math.floor(rest / UNIT_MS[unit]);
    rest -= count * UNIT_MS[unit];
    if (count > 0) parts.push(`${count}${unit}`);
  }
  return parts.join(' ');
}

/** quote shows user input in a message, cut short so a huge argument cannot flood the terminal. */
export function quote(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
