import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times: 100 on Linux everywhere in practice. */
const TICKS_PER_SECOND = 100;

/**
 * cpuMs is the CPU time (user + system) that process `pid` has used so far, in
 * ms, or undefined where there is no /proc (macOS). CPU time per job or per
 * request is steadier than wall time on a noisy machine.
 */
export function cpuMs(pid: number | undefined): number | undefined {
  try {
    // The command name, in parentheses, may hold spaces: count fields after it.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Microseconds on the clock that `node --cpu-prof` stamps its samples with (CLOCK_MONOTONIC). */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * machineBusyMs is the CPU time that every process on the machine has used so
 * far, all cores together, in ms (/proc/stat: every state but idle and iowait;
 * steal included, since a core taken by another VM was not ours either), or
 * undefined without /proc. Over a window, divided by its wall time, it is how
 * many cores were busy: on a shared machine, compare it with what the
 * benchmark's own processes used.
 */
export function machineBusyMs(): number | undefined {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    // user nice system idle iowait irq softirq steal (guest time is counted in user already)
    const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
    return ((user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
