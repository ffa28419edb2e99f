import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/dev/free-port.ts';
import { startLocalRedis, type LocalRedis } from '../../../src/dev/local-redis.ts';
import { redisServerBinary } from '../services/redis-server.ts';

/**
 * A redis-server of its own that a chaos scenario can kill -9 and start again
 * on the same port and data folder, with AOF on (`appendfsync everysec`, as
 * `npm start` runs it). Unlike the harness's RedisServer (which stops Redis
 * cleanly and restarts it empty), what Redis wrote to its AOF before the kill
 * is loaded again on start().
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

const running = new Set<LocalRedis>();
const dataDirs = new Set<string>();

/** Starts a Redis with AOF on, on a free port; kill every one with killAllRedis() in afterAll. */
export async function startKillableRedis(): Promise<KillableRedis> {
  if (!redisServerBinary()) {
    throw new Error('the chaos suite kills and restarts Redis itself: it needs `redis-server` on PATH (apt-get install redis-server)');
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'chaos-redis-'));
  dataDirs.add(dir);
  let server: LocalRedis | undefined;

  const redis: KillableRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async start() {
      if (server) return;
      // With a data folder, startLocalRedis turns AOF on, and waits out the AOF's loading.
      server = await startLocalRedis(port, dir);
      running.add(server);
    },
    async kill() {
      const doomed = server;
      server = undefined;
      if (!doomed) return;
      await doomed.kill();
      running.delete(doomed);
    },
  };
  await redis.start();
  return redis;
}

/** SIGKILLs every Redis this file started and deletes their data folders. */
export async function killAllRedis(): Promise<void> {
  await Promise.all([...running].map((server) => server.kill()));
  running.clear();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  dataDirs.clear();
}
