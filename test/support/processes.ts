import { execFileSync } from 'node:child_process';

/**
 * isRunning tells whether the process runs. A zombie (dead, not yet reaped by
 * its parent, which for an orphan is init, in its own time) does not count.
 */
export function isRunning(pid: number): boolean {
  const state = ps(['-o', 'stat=', '-p', String(pid)]).trim();
  return state !== '' && !state.startsWith('Z');
}

/** childrenOf lists the processes whose parent is pid, with their command lines. */
export function childrenOf(pid: number): { pid: number; command: string }[] {
  return ps(['-A', '-o', 'pid=,ppid=,args='])
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(line))
    .filter((match) => match !== null && Number(match[2]) === pid)
    .map((match) => ({ pid: Number(match![1]), command: match![3]!.trim() }));
}

// ps exits 1 when no process matches -p.
function ps(args: string[]): string {
  try {
    return execFileSync('ps', args, { encoding: 'utf8' });
  } catch (err) {
    return (err as { stdout?: string }).stdout ?? '';
  }
}
