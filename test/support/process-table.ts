import { execFileSync } from 'node:child_process';

/**
 * isRunning tells whether the process runs. A zombie (dead, not yet reaped by
 * its parent, which for an orphan is init, in its own time) does not count.
 */
export function isRunning(pid: number): boolean {
  const state = ps(['-o', 'stat=', '-p', String(pid)]).trim();
  return state !== '' && !state.startsWith('Z');
}

/** A running process and its command line. */
export type ProcessInfo = { pid: number; command: string };

/** childrenOf lists the processes whose parent is pid. */
export function childrenOf(pid: number): ProcessInfo[] {
  return processTable()
    .filter((p) => p.ppid === pid)
    .map(({ pid, command }) => ({ pid, command }));
}

/** descendantsOf lists pid's children, their children, and so on. */
export function descendantsOf(pid: number): ProcessInfo[] {
  const table = processTable();
  const found: ProcessInfo[] = [];
  const parents = [pid];
  for (let parent = parents.pop(); parent !== undefined; parent = parents.pop()) {
    for (const p of table.filter((row) => row.ppid === parent)) {
      found.push({ pid: p.pid, command: p.command });
      parents.push(p.pid);
    }
  }
  return found;
}

function processTable(): (ProcessInfo & { ppid: number })[] {
  return ps(['-A', '-o', 'pid=,ppid=,args='])
    .split('\n')
    .flatMap((line) => {
      const match = /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(line);
      return match ? [{ pid: Number(match[1]), ppid: Number(match[2]), command: match[3]!.trim() }] : [];
    });
}

// ps exits 1 when no process matches -p.
function ps(args: string[]): string {
  try {
    return execFileSync('ps', args, { encoding: 'utf8' });
  } catch (err) {
    return (err as { stdout?: string }).stdout ?? '';
  }
}
