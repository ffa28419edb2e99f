/** Terminal colours, on only when writing to a terminal and NO_COLOR is unset. */
const enabled = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

const paint = (open: number, close: number) => (text: string) => (enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text);

export const bold = paint(1, 22);
export const dim = paint(2, 22);
export const red = paint(31, 39);
export const green = paint(32, 39);
export const yellow = paint(33, 39);
export const cyan = paint(36, 39);

/** plain removes colour codes, for output that is not a terminal. */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

/** colour keeps colour codes in a terminal and removes them elsewhere. */
export function colour(text: string): string {
  return enabled ? text : plain(text);
}

/** indent prefixes every line. */
export function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}
