// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the
// most self time, and the share of time spent under a few groups of code.
// Percentages are of the busy time: the samples in which the thread was idle are left out.
// Usage: node --import tsx bench/cpuprofile-top.ts <file.cpuprofile> [rows]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Time ranges in µs on the profile's clock (process.hrtime's, so another process can name them). */
export type Windows = [number, number][];

export interface Row {
  name: string;
  ms: number;
  percent: number;
}

/** Where a frame's code lives, shortened: `pino/lib/proto.js:120`, `src/jobs/server.ts:88`. */
function where(frame: ProfileNode['callFrame']): string {
  const url = frame.url.replace(/^file:\/\//, '');
  const short = url.includes('node_modules/') ? url.slice(url.lastIndexOf('node_modules/') + 13) : url.replace(/^.*?\/(src|bench)\//, '$1/');
  return short ? `${short}:${frame.lineNumber + 1}` : '';
}

/**
 * Self time by node, in µs, and the busy total: samples in which the thread
 * was idle are left out, and so are those outside `windows`, if given.
 */
function selfTimes(profile: Profile, windows?: Windows): { byNode: Map<number, number>; total: number } {
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id));
  const byNode = new Map<number, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (idle.has(id)) return;
    if (windows && !windows.some(([from, to]) => at >= from && at <= to)) return;
    byNode.set(id, (byNode.get(id) ?? 0) + us);
    total += us;
  });
  return { byNode, total };
}

/** busyMs is the time the thread was not idle, in ms. */
export function busyMs(profile: Profile, windows?: Windows): number {
  return selfTimes(profile, windows).total / 1000;
}

/** topSelf lists the `rows` functions with the most self time. */
export function topSelf(profile: Profile, rows: number, windows?: Windows): Row[] {
  const { byNode, total } = selfTimes(profile, windows);
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    if (us === 0) continue;
    const name = `${node.callFrame.functionName || '(anonymous)'} ${where(node.callFrame)}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  return [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / total }));
}

/**
 * inclusiveShare is the share of all samples whose stack holds a frame that
 * matches `test`, counted once per sample however deep the match.
 */
export function inclusiveShare(profile: Profile, test: (frame: ProfileNode['callFrame']) => boolean, windows?: Windows): number {
  const { byNode, total } = selfTimes(profile, windows);
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  let matched = 0;
  for (const [id, us] of byNode) {
    for (let node = byId.get(id); node; node = parent.get(node.id)) {
      if (test(node.callFrame)) {
        matched += us;
        break;
      }
    }
  }
  return (100 * matched) / total;
}

export function readProfile(file: string): Profile {
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

export function formatTop(rows: Row[]): string {
  return rows.map((row) => `  ${row.percent.toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(6)} ms  ${row.name}`).join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, rows = '25'] = process.argv.slice(2);
  if (!file) throw new Error('usage: bench/cpuprofile-top.ts <file.cpuprofile> [rows]');
  console.log(formatTop(topSelf(readProfile(file), Number(rows))));
}
