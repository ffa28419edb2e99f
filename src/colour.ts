/**
 * useColour tells whether output to a stream gets ANSI colours. npm start's
 * labels and the apps' pretty logs follow the same rule:
 * 1. FORCE_COLOR, when not empty, decides: "0" or "false" turns colour off,
 *    any other value turns it on, even on a pipe or with NO_COLOR set (Node
 *    reads FORCE_COLOR the same way).
 * 2. Else NO_COLOR, when not empty, turns it off (https://no-color.org).
 * 3. Else a terminal gets colour, and a pipe or file does not.
 */
export function useColour(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force) return force !== '0' && force !== 'false';
  if (env.NO_COLOR) return false;
  return isTTY === true;
}
