import type { StartedTestContainer } from 'testcontainers';
import { freePort } from '../../../src/dev/free-port.ts';
import { binaryOnPath } from '../../../src/dev/on-path.ts';
import { startLocalRedis, type LocalRedis } from '../../../src/dev/local-redis.ts';
import { dockerImages, redisContainer } from './docker.ts';

/** A Redis of its own that a test can stop and start again on the same port. */
export interface RedisServer {
  url: string;
  port: number;
  /** What runs it, e.g. `local redis-server 7.0.15` or `docker redis:7-alpine`. */
  description: string;
  /** Stops Redis; connections to `url` are then refused. Does nothing when stopped. */
  stop(): Promise<void>;
  /** Starts Redis again on the same port, empty. Does nothing when running. */
  start(): Promise<void>;
}

/** The `redis-server` binary found on PATH, or undefined. */
export function redisServerBinary(): string | undefined {
  return binaryOnPath('redis-server');
}

/**
 * Starts a disposable Redis on a free port and waits until it answers PING.
 * Uses the local `redis-server` binary when there is one, else a
 * testcontainers container with a fixed host port (so a restart keeps the url).
 */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const server = redisServerBinary() ? localRedis(port) : await containerRedis(port);
  await server.start();
  return server;
}

function localRedis(port: number): RedisServer {
  let running: LocalRedis | undefined;
  let version = 'unknown';

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get description() {
      return `local redis-server ${version}`;
    },
    async start() {
      if (running) return;
      running = await startLocalRedis(port);
      version = running.version;
    },
    async stop() {
      const server = running;
      running = undefined;
      await server?.stop();
    },
  };
}

async function containerRedis(port: number): Promise<RedisServer> {
  const image = dockerImages().redis;
  let container: StartedTestContainer | undefined;

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    description: `docker ${image}`,

    async start() {
      if (container) return;
      container = await (await redisContainer(image)).withExposedPorts({ container: 6379, host: port }).start();
    },

    async stop() {
      const c = container;
      container = undefined;
      await c?.stop();
    },
  };
}
