// The API as users run it (`npm run api`: a process of its own, a fresh SQLite
// file, info logs to a pipe) under concurrent load, next to a bare node:http +
// BullMQ `queue.add` server on the same Redis, in the same run.
//
// `npm run bench` runs it as one of its sections; on its own:
//   node --import tsx bench/api-load.ts [--seconds N] [--rounds N]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { openDatabase } from '../src/db/database.ts';
import { seedCatalog } from '../src/db/seed.ts';
import { freePort } from '../src/dev/free-port.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { startNode, type Child, type NodeOptions } from './child.ts';
import { atLeast, atMost, cpuLine, goalLines, loadLine, mark, ratio, type GoalRow } from './format.ts';
import { machineLoad } from './learner-loop.ts';
import { load, type Load, type Target } from './load.ts';
import { median } from './median.ts';
import { cpuMs, monotonicUs } from './process-cpu.ts';
import { arg } from './arg.ts';

/** The routes measured, and the baselines they are compared with. */
export type Route = 'empty' | 'rawAdd' | 'birthday' | 'orders';

export interface ApiLoadOptions {
  redisUrl: string;
  prefix: string;
  connections: number[];
  seconds: number;
  /** How to start the API process: node flags, and the folder to run it from. */
  node?: NodeOptions;
  /** Only these routes (the profile loads the two real ones). Default: all four. */
  routes?: Route[];
  /**
   * How many times each route is loaded at each connection count, the routes
   * taking turns and each going first in turn. Default 1.
   */
  rounds?: number;
}

/**
 * A route's load, and the CPU time its server process used per request
 * (undefined without /proc). Over several rounds: each number is the median
 * of the rounds', and `rounds` holds them, in order.
 */
export type RouteLoad = Load & { cpuUsPerRequest: number | undefined; rounds: Omit<RouteLoad, 'rounds'>[] };

export interface ApiLoad {
  /** By connection count, then route. */
  results: Map<number, Partial<Record<Route, RouteLoad>>>;
  /** When each measured run ran, in monotonicUs(), to cut a CPU profile to them. */
  windows: [number, number][];
  /**
   * By connection count, the outbox rows still unsent when the orders run
   * ended (the relay's backlog), and how long after the burst's end (its last
   * answer) the outbox was empty, to within DRAIN_POLL_MS; the worst of the rounds.
   */
  outboxBacklog: Map<number, { rows: number; drainMs: number }>;
}

/**
 * API_GOALS: send-birthday's req/s against the bare queue.add server's at
 * `vsRawConnections`, and the p99 latencies at `p99Connections`.
 */
export const API_GOALS = { birthdayVsRaw: 0.8, vsRawConnections: 50, p99Connections: 10, birthdayP99Ms: 5, ordersP99Ms: 10 } as const;

/**
 * API_ROUNDS: rounds of the goals' runs. One run of each route read
 * send-birthday at 0.79x the bare server in one full benchmark and 0.98x in
 * the next, with no change to the code between them.
 */
export const API_ROUNDS = 3;

/** More stickers than any run can sell: an order that meets an empty shelf answers 409. */
const STICKER_STOCK = 100_000_000;
const ORDER = JSON.stringify({ user_id: 1, sku: 'sticker', quantity: 1 });
/** How often the benchmark looks at the outbox while the relay catches up. */
const DRAIN_POLL_MS = 10;

export async function apiLoad(opts: ApiLoadOptions): Promise<ApiLoad> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-api-'));
  const databasePath = join(dir, 'app.db');
  const db = openDatabase(databasePath);
  seedCatalog(db);
  db.prepare('UPDATE products SET stock = ? WHERE sku = ?').run(STICKER_STOCK, 'sticker');
  db.close();

  const [apiPort, rawPort] = [await freePort(), await freePort()];
  const routes = opts.routes ?? ['empty', 'rawAdd', 'birthday', 'orders'];
  const children: Child[] = [];
  let rawServer: Child | undefined;
  const outbox = new Database(databasePath, { readonly: true });
  const redis = new Redis(opts.redisUrl);
  try {
    children.push(
      await startNode(
        'src/cmd/api.ts',
        { PORT: String(apiPort), REDIS_URL: opts.redisUrl, QUEUE_PREFIX: opts.prefix, DATABASE_PATH: databasePath, NODE_ENV: 'development', LOG_LEVEL: 'info' },
        /API listening/,
        opts.node,
      ),
    );
    if (routes.includes('rawAdd')) {
      rawServer = await startNode('bench/raw-enqueue-server.ts', { PORT: String(rawPort), REDIS_URL: opts.redisUrl, QUEUE_PREFIX: `${opts.prefix}-raw` }, /listening/);
      children.push(rawServer);
    }
    const api = `http://127.0.0.1:${apiPort}`;
    const targets: Record<Route, Target> = {
      empty: { url: `${api}/healthz` },
      rawAdd: { url: `http://127.0.0.1:${rawPort}/`, method: 'POST' },
      birthday: { url: `${api}/api/dev/send-birthday/1`, method: 'POST' },
      orders: { url: `${api}/api/orders`, method: 'POST', body: ORDER },
    };
    const counter = (where: string) => {
      const query = outbox.prepare<[], { n: number }>(`SELECT count(*) AS n FROM outbox WHERE ${where}`);
      return () => query.get()!.n;
    };
    const unsent = counter('sent_at IS NULL AND dead_at IS NULL');
    const dead = counter('dead_at IS NOT NULL');
    const settle = async () => {
      while (unsent() > 0) await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      // A dead row is never sent: the outbox would look empty while the relay had not sent it.
      if (dead() > 0) throw new Error(`the relay set ${dead()} outbox rows aside as dead`);
    };

    // Warm-up: JIT, connections, SQLite's cache.
    for (const route of routes) await load(targets[route], 10, 1);
    await settle();

    const results = new Map<number, Partial<Record<Route, RouteLoad>>>();
    const outboxBacklog = new Map<number, { rows: number; drainMs: number }>();
    const windows: [number, number][] = [];
    for (const connections of opts.connections) {
      const rounds: Partial<Record<Route, Omit<RouteLoad, 'rounds'>[]>> = {};
      for (let round = 0; round < (opts.rounds ?? 1); round++) {
        for (let i = 0; i < routes.length; i++) {
          const route = routes[(round + i) % routes.length]!;
          const pid = (route === 'rawAdd' ? rawServer! : children[0]!).process.pid;
          const cpuBefore = cpuMs(pid);
          const from = monotonicUs();
          const measured = await load(targets[route], connections, opts.seconds);
          windows.push([from, monotonicUs()]);
          const cpuAfter = cpuMs(pid);
          const requests = measured.rps * opts.seconds;
          const cpuUsPerRequest = cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / requests;
          (rounds[route] ??= []).push({ ...measured, cpuUsPerRequest });
          if (route === 'orders') {
            const rows = unsent();
            await settle();
            const drainMs = performance.now() - measured.endedAt;
            const worst = outboxBacklog.get(connections);
            outboxBacklog.set(connections, { rows: Math.max(rows, worst?.rows ?? 0), drainMs: Math.max(drainMs, worst?.drainMs ?? 0) });
          }
          await deleteJobs(redis, opts.prefix);
        }
      }
      const byRoute: Partial<Record<Route, RouteLoad>> = {};
      for (const [route, loads] of Object.entries(rounds) as [Route, Omit<RouteLoad, 'rounds'>[]][]) byRoute[route] = medianLoad(loads);
      results.set(connections, byRoute);
    }
    return { results, outboxBacklog, windows };
  } finally {
    redis.disconnect();
    outbox.close();
    for (const child of children.reverse()) await child.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * deleteJobs deletes the jobs that the runs queued (no worker takes them), so
 * that each run starts on an empty Redis. Left there, 60,000 jobs or more a
 * run made Redis rewrite its AOF again and again under the next runs (5
 * rewrites in 24 s of load, the file at 166 MB), taking a core at random
 * moments: send-birthday against the bare server read anything from 0.46x
 * to 1.11x from one round to the next.
 */
async function deleteJobs(redis: Redis, prefix: string): Promise<void> {
  const keys = redis.scanStream({ match: `${prefix}*`, count: 1_000 });
  for await (const batch of keys as AsyncIterable<string[]>) if (batch.length > 0) await redis.unlink(...batch);
}

/** medianLoad is the rounds' median of each number of a route's load. */
function medianLoad(rounds: Omit<RouteLoad, 'rounds'>[]): RouteLoad {
  const of = (pick: (load: Omit<RouteLoad, 'rounds'>) => number) => median(rounds.map(pick));
  const cpu = rounds.every((load) => load.cpuUsPerRequest !== undefined) ? of((load) => load.cpuUsPerRequest!) : undefined;
  return { p50: of((load) => load.p50), p99: of((load) => load.p99), rps: of((load) => load.rps), endedAt: rounds.at(-1)!.endedAt, cpuUsPerRequest: cpu, rounds };
}

/** birthdayVsRaw is send-birthday's req/s against the bare queue.add server's: the median of the rounds' ratios. */
export function birthdayVsRaw(byRoute: { birthday: RouteLoad; rawAdd: RouteLoad }): number {
  return median(roundRatios(byRoute));
}

/** Each round's send-birthday req/s against the bare server's in the same round. */
function roundRatios({ birthday, rawAdd }: { birthday: RouteLoad; rawAdd: RouteLoad }): number[] {
  return birthday.rounds.map((load, i) => load.rps / rawAdd.rounds[i]!.rps);
}

/** apiGoals rates a run on [10, 50] connections (API_GOALS says which count each goal reads). */
export function apiGoals(results: ApiLoad['results']): GoalRow[] {
  const at = (connections: number) => {
    const byRoute = results.get(connections);
    if (!byRoute?.birthday || !byRoute.rawAdd || !byRoute.orders) throw new Error(`no run on ${connections} connections with send-birthday, raw queue.add and orders`);
    return { birthday: byRoute.birthday, rawAdd: byRoute.rawAdd, orders: byRoute.orders };
  };
  const wide = at(API_GOALS.vsRawConnections);
  const narrow = at(API_GOALS.p99Connections);
  return [
    atLeast(`send-birthday vs bare queue.add server, ${API_GOALS.vsRawConnections} connections`, birthdayVsRaw(wide), API_GOALS.birthdayVsRaw),
    atMost(`send-birthday p99, ${API_GOALS.p99Connections} connections`, narrow.birthday.p99, API_GOALS.birthdayP99Ms),
    atMost(`orders p99, ${API_GOALS.p99Connections} connections`, narrow.orders.p99, API_GOALS.ordersP99Ms),
  ];
}

/** apiLoadLines prints a run of all four routes, by connection count; `more` adds lines of its own to each count. */
export function apiLoadLines(run: ApiLoad, more: (connections: number) => string[] = () => []): string[] {
  const [vsRaw, birthdayP99, ordersP99] = apiGoals(run.results);
  const lines: string[] = [];
  for (const [connections, byRoute] of run.results) {
    const { empty, rawAdd, birthday, orders } = byRoute as Record<Route, RouteLoad>;
    const vsRawMark = connections === API_GOALS.vsRawConnections ? ` ${mark(vsRaw!)}` : '';
    lines.push(
      `  ${connections} connections:`,
      `    ${loadLine('GET /healthz (empty route)', empty)}`,
      `    ${loadLine('raw queue.add (node:http + BullMQ)', rawAdd)}`,
      `    ${loadLine('POST /api/dev/send-birthday/1', birthday)}`,
      `    ${loadLine('POST /api/orders', orders)}`,
      `    send-birthday vs raw queue.add: ${ratio(birthdayVsRaw({ birthday, rawAdd }))} the req/s${vsRawMark}${roundsOf({ birthday, rawAdd })}; vs the empty route: ${ratio(birthday.rps / empty.rps)}`,
      `    CPU per request in the server process: ${cpuLine({ empty, rawAdd, birthday, orders })}`,
      `    orders vs the empty route: ${ratio(orders.rps / empty.rps)} the req/s`,
      ...more(connections).map((line) => `    ${line}`),
    );
    if (connections === API_GOALS.p99Connections) {
      lines.push(`    p99 at ${connections}: send-birthday ${birthdayP99!.value} ${mark(birthdayP99!)}, orders ${ordersP99!.value} ${mark(ordersP99!)}`);
    }
  }
  return lines;
}

/** The rounds' ratios, when there are several: " (rounds: 0.82x, 0.79x, 0.85x)". */
function roundsOf(byRoute: { birthday: RouteLoad; rawAdd: RouteLoad }): string {
  const ratios = roundRatios(byRoute);
  return ratios.length < 2 ? '' : ` (rounds: ${ratios.map(ratio).join(', ')})`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const seconds = Number(arg('--seconds') ?? 4);
  const rounds = Number(arg('--rounds') ?? API_ROUNDS);
  const port = await freePort();
  const work = await mkdtemp(join(tmpdir(), 'bench-api-load-'));
  const redis = await startLocalRedis(port, join(work, 'redis'));
  try {
    console.log(`API process under load: autocannon, ${seconds} s per route, ${rounds} rounds interleaved (medians); Redis ${redis.version}; ${machineLoad()}`);
    const run = await apiLoad({ redisUrl: `redis://127.0.0.1:${port}`, prefix: 'api-load', connections: [API_GOALS.p99Connections, API_GOALS.vsRawConnections], seconds, rounds });
    for (const line of apiLoadLines(run)) console.log(line);
    for (const line of goalLines(apiGoals(run.results))) console.log(line);
    console.log(`  ${machineLoad()}`);
  } finally {
    await redis.stop();
    await rm(work, { recursive: true, force: true });
  }
}
