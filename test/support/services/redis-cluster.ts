import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startLocalRedis } from '../../../src/dev/local-redis.ts';
import { binaryOnPath } from '../../../src/dev/on-path.ts';

/** One node of a RedisCluster: a local redis-server with a folder of its own. */
export interface RedisClusterNode {
  host: string;
  port: number;
  /** Where it keeps nodes.conf, its view of the cluster. Deleted by stop(). */
  dir: string;
}

/** A Redis Cluster of masters only, each a local redis-server, for tests. */
export interface RedisCluster {
  /** The masters as REDIS_CLUSTER_NODES lists them: `127.0.0.1:40001,127.0.0.1:40002,127.0.0.1:40003`. */
  seeds: string;
  nodes: RedisClusterNode[];
  /** For the log, e.g. `local redis-server 7.0.15, a cluster of 3 masters on 127.0.0.1:40001,…`. */
  description: string;
  /** Stops every node and deletes their folders. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** A node's cluster bus listens on its port + 10000: Redis fixes that offset, so both ports must be free. */
const BUS_OFFSET = 10_000;
const TIMEOUT_MS = 20_000;

/**
 * startRedisCluster starts `masters` local Redis servers (startLocalRedis:
 * no persistence) with `cluster-enabled yes` on free ports, each with a
 * temporary folder for its nodes.conf, joins them with
 * `redis-cli --cluster create … --cluster-replicas 0` (so the 16384 slots are
 * split between them), and resolves once every node reports `cluster_state:ok`.
 * With a password, every node asks for it.
 * It needs `redis-server` and `redis-cli` on PATH.
 */
export async function startRedisCluster(opts: { masters?: number; password?: string } = {}): Promise<RedisCluster> {
  const masters = opts.masters ?? 3;
  for (const binary of ['redis-server', 'redis-cli']) {
    if (!binaryOnPath(binary)) throw new Error(`a Redis Cluster for the tests needs ${binary} on PATH: apt-get install redis-server, or brew install redis`);
  }
  const nodes: StartedNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
  };
  try {
    while (nodes.length < masters) nodes.push(await startNodeOnFreePort(nodes, opts.password));
    await createCluster(nodes, opts.password);
    await Promise.all(nodes.map((node) => waitForClusterOk(node, opts.password)));
  } catch (err) {
    await stop();
    throw err;
  }
  const seeds = nodes.map((node) => `${node.host}:${node.port}`).join(',');
  return {
    seeds,
    nodes: nodes.map(({ host, port, dir }) => ({ host, port, dir })),
    description: `local redis-server ${nodes[0]!.version}, a cluster of ${masters} masters on ${seeds}`,
    stop,
  };
}

interface StartedNode extends RedisClusterNode {
  version: string;
  stop(): Promise<void>;
}

async function startNode(port: number, password: string | undefined): Promise<StartedNode> {
  const dir = await mkdtemp(join(tmpdir(), `redis-cluster-${port}-`));
  try {
    const redis = await startLocalRedis(port, undefined, {
      password,
      args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000', '--dir', dir],
    });
    const stop = async () => {
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    };
    return { host: HOST, port, dir, version: redis.version, stop };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** createCluster runs `redis-cli --cluster create`, which gives each master its share of the slots. */
async function createCluster(nodes: StartedNode[], password: string | undefined): Promise<void> {
  const args = ['--cluster', 'create', ...nodes.map((node) => `${node.host}:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'];
  // REDISCLI_AUTH rather than -a: the password stays out of `ps`, and redis-cli does not warn about it.
  const child = spawn('redis-cli', args, { env: { ...process.env, ...(password && { REDISCLI_AUTH: password }) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  clearTimeout(timer);
  if (code !== 0 || !output.includes('[OK] All 16384 slots covered')) {
    throw new Error(`redis-cli --cluster create failed (exit ${code}):\n${output.trim().split('\n').slice(-6).join('\n')}`);
  }
}

/** waitForClusterOk resolves once the node says `cluster_state:ok`: it knows an owner for every slot. */
async function waitForClusterOk(node: StartedNode, password: string | undefined): Promise<void> {
  const redis = new Redis({ host: node.host, port: node.port, password, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const info = await redis.cluster('INFO');
      if (info.includes('cluster_state:ok')) return;
      if (Date.now() > deadline) throw new Error(`the node on port ${node.port} never said cluster_state:ok:\n${info}`);
      await sleep(50);
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * startNodeOnFreePort starts a node on a port that is free, with its bus port
 * free too. Another process may take the port between the check and the
 * node's start: then it tries another one.
 */
async function startNodeOnFreePort(others: RedisClusterNode[], password: string | undefined): Promise<StartedNode> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNode(await freePortPair(others), password);
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

/** freePortPair finds a port that is free, whose bus port (+10000) is free too, and that no other node uses. */
async function freePortPair(others: RedisClusterNode[]): Promise<number> {
  const taken = others.flatMap((node) => [node.port, node.port + BUS_OFFSET]);
  for (let tries = 0; tries < 200; tries++) {
    // Below 55536, so that the bus port is a port.
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.includes(port) || taken.includes(port + BUS_OFFSET)) continue;
    if ((await isFree(port)) && (await isFree(port + BUS_OFFSET))) return port;
  }
  throw new Error(`found no free pair of ports (a port and the port + ${BUS_OFFSET}) for a Redis Cluster node`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
