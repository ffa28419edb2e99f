import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/dev/free-port.ts';
import { redisServerBinary } from '../harness/redis-server.ts';

/**
 * A redis-server of its own that a chaos scenario can kill -9 and start again
 * on the same port and data folder, with AOF on. Unlike the harness's
 * RedisServer (which stops Redis cleanly and restarts it empty), what Redis
 * wrote to its AOF before the kill is loaded again on start().
 */
export interface KillableRedis {
  url: string;
  port: number;
  /** The data folder: the AOF lives in appendonlydir/ under it. */
  dir: string;
  /** Starts Redis and resolves once it answers PING, that is once the AOF is loaded. */
  start(): Promise<void>;
  /** SIGKILLs Redis, as a crash would, and resolves once the process is gone. */
  kill(): Promise<void>;
}

export type AppendFsync = 'everysec' | 'always';

const running = new Set<ChildProcess>();
const dataDirs = new Set<string>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts a Redis with `appendonly yes` on a free port; kill every one with killAllRedis() in afterAll. */
export async function startKillableRedis(appendfsync: AppendFsync = 'everysec'): Promise<KillableRedis> {
  if (!redisServerBinary()) {
    throw new Error('the chaos suite kills and restarts Redis itself: it needs `redis-server` on PATH (apt-get install redis-server)');
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'chaos-redis-'));
  dataDirs.add(dir);
  const args = [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', appendfsync,
    '--save', '', // no RDB snapshots: only the AOF brings data back
    '--maxmemory-policy', 'noeviction',
  ];
  let child: ChildProcess | undefined;

  const redis: KillableRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async start() {
      if (child) return;
      const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      running.add(started);
      let output = '';
      const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000));
      started.stdout?.on('data', keep);
      started.stderr?.on('data', keep);
      started.once('exit', () => running.delete(started));
      await waitUntilServing(started, port, () => output);
    },
    async kill() {
      const doomed = child;
      child = undefined;
      if (!doomed || doomed.exitCode !== null || doomed.signalCode !== null) return;
      const gone = new Promise((resolve) => doomed.once('exit', resolve));
      doomed.kill('SIGKILL');
      await gone;
    },
  };
  await redis.start();
  return redis;
}

/** SIGKILLs every Redis this file started and deletes their data folders. */
export async function killAllRedis(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }),
  );
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  dataDirs.clear();
}

/**
 * Resolves once the Redis on `port` answers PING and is this child (not one
 * that took the port meanwhile). While Redis loads its AOF it answers LOADING,
 * so PING succeeding means the data is back.
 */
async function waitUntilServing(child: ChildProcess, port: number, output: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited (${child.signalCode ?? child.exitCode}):\n${output()}`);
    }
    if ((await servingPid(port)) === child.pid) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function servingPid(port: number): Promise<number | undefined> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {}); // refused or LOADING: not yet
  try {
    await client.connect();
    if ((await client.ping()) !== 'PONG') return undefined;
    return Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}
