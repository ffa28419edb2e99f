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
