import type { ChildScript } from './child-script.ts';

/**
 * The last line of npm start's banner: once it shows, every service answers.
 * Its label may be coloured (FORCE_COLOR).
 */
export const BANNER_END = /^(?:\x1b\[\d+m)?dev +│(?:\x1b\[0m)? {3}Stop {8}Ctrl-C$/m;

/** Ctrl-C, as a terminal sends it to npm start; resolves with its exit code. */
export async function interrupt(dev: ChildScript): Promise<number | null> {
  dev.kill('SIGINT');
  return (await dev.exited).code;
}
