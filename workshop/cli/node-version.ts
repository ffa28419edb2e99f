/** MIN_NODE is the oldest Node.js the workshop runs on (package.json's engines). */
export const MIN_NODE = [20, 19] as const;

/** nodeVersionProblem returns what to do when this Node.js is too old, or undefined when it will do. */
export function nodeVersionProblem(version = process.versions.node): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])) return undefined;
  return [
    `This workshop needs Node.js ${MIN_NODE.join('.')} or newer, and this is ${version}.`,
    'Install a newer one, for example with nvm: `nvm install 22 && nvm use 22`, then run `npm install` again.',
  ].join('\n');
}
