/** arg is the value given after a flag on the command line (`--jobs 5000` gives '5000'), or undefined. */
export function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}
