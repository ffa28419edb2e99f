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

export function loadLine(label: string, load: Load): string {
  return `${label.padEnd(40)} p50 ${load.p50.toFixed(2).padStart(6)} ms   p99 ${load.p99.toFixed(2).padStart(6)} ms   ${perSecond(load.rps, 'req').padStart(12)}`;
}

/** cpuLine lists the CPU time per request of each route, where /proc tells it. */
export function cpuLine(byRoute: Record<'empty' | 'rawAdd' | 'birthday' | 'orders', RouteLoad>): string {
  const us = (load: RouteLoad) => (load.cpuUsPerRequest === undefined ? 'n/a' : `${load.cpuUsPerRequest.toFixed(0)} µs`);
  return `empty ${us(byRoute.empty)}, raw queue.add ${us(byRoute.rawAdd)}, send-birthday ${us(byRoute.birthday)}, orders ${us(byRoute.orders)}`;
}
