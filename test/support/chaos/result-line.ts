/** One scenario's outcome, as a row of the fault table in docs/reliability.md. */
export interface ChaosResult {
  fault: string;
  sent: number;
  completed: string;
  lost: number;
  duplicated: number;
  recovery: string;
}

/** printResult prints `fault | jobs sent | completed | lost | duplicated | recovery time`, and returns it. */
export function printResult(r: ChaosResult): string {
  const line = [r.fault, r.sent, r.completed, r.lost, r.duplicated, r.recovery].join(' | ');
  console.log(line);
  return line;
}

/** seconds formats a duration in ms as `1.2 s`, or `20 s` when it is whole. */
export function seconds(ms: number): string {
  return `${(ms / 1_000).toFixed(1).replace(/\.0$/, '')} s`;
}
