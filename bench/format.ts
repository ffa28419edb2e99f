// How the benchmark prints its numbers.
import type { RouteLoad } from './api-load.ts';
import type { Load } from './load.ts';

export const ms = (value: number) => `${value.toFixed(1)} ms`;
export const seconds = (value: number) => `${(value / 1000).toFixed(1)} s`;
export const ratio = (value: number) => `${value.toFixed(2)}x`;
export const perSecond = (value: number, unit: string) => `${Math.round(value).toLocaleString('en-US')} ${unit}/s`;

/** goal marks a ratio or time against its goal: "(goal ≥ 0.9x: met)". */
export function goal(met: boolean, text: string): string {
  return `(goal ${text}: ${met ? 'met' : 'MISSED'})`;
}

/** GoalRow is one line of the goals summary that ends npm run bench. */
export interface GoalRow {
  what: string;
  /** What was measured, as printed. */
  value: string;
  goal: string;
  /** 'floor': short of the goal, but not below its floor. */
  verdict: 'met' | 'floor' | 'MISSED';
}

const times = (value: number) => `${Number.isInteger(value) ? value.toFixed(1) : value}x`;

/** atLeast rates a ratio that should reach `target`; past `floor`, if given, it is not yet a miss. */
export function atLeast(what: string, value: number, target: number, floor?: number): GoalRow {
  const verdict = value >= target ? 'met' : floor !== undefined && value >= floor ? 'floor' : 'MISSED';
  return { what, value: ratio(value), goal: `≥ ${times(target)}${floor === undefined ? '' : ` (${times(floor)} floor)`}`, verdict };
}

/** atMost rates a time in ms that should stay within `limitMs`. */
export function atMost(what: string, valueMs: number, limitMs: number): GoalRow {
  return { what, value: ms(valueMs), goal: `≤ ${limitMs} ms`, verdict: valueMs <= limitMs ? 'met' : 'MISSED' };
}

/** mark is a row's verdict beside its number in a section: "(goal ≥ 0.8x: met)". */
export const mark = (row: GoalRow) => `(goal ${row.goal}: ${row.verdict})`;

/** goalLines prints the rows as a table. */
export function goalLines(rows: GoalRow[]): string[] {
  const width = Math.max(...rows.map((row) => row.what.length));
  const goalWidth = Math.max(...rows.map((row) => row.goal.length));
  return rows.map((row) => `  ${row.what.padEnd(width)}  ${row.value.padStart(8)}   goal ${row.goal.padEnd(goalWidth)}   ${row.verdict}`);
}

export function loadLine(label: string, load: Load): string {
  return `${label.padEnd(40)} p50 ${load.p50.toFixed(2).padStart(6)} ms   p99 ${load.p99.toFixed(2).padStart(6)} ms   ${perSecond(load.rps, 'req').padStart(12)}`;
}

/** cpuLine lists the CPU time per request of each route, where /proc tells it. */
export function cpuLine(byRoute: Record<'empty' | 'rawAdd' | 'birthday' | 'orders', RouteLoad>): string {
  const us = (load: RouteLoad) => (load.cpuUsPerRequest === undefined ? 'n/a' : `${load.cpuUsPerRequest.toFixed(0)} µs`);
  return `empty ${us(byRoute.empty)}, raw queue.add ${us(byRoute.rawAdd)}, send-birthday ${us(byRoute.birthday)}, orders ${us(byRoute.orders)}`;
}
