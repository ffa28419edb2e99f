import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { StartedTestContainer } from 'testcontainers';
import { freePort } from '../../src/dev/free-port.ts';

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

const REDIS_IMAGE = 'redis:7-alpine';

/** The `redis-server` binary found on PATH, or undefined. */
export function redisServerBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * Starts a disposable Redis on a free port and waits until it answers PING.
 * Uses the local `redis-server` binary when there is one, else a
 * testcontainers container with a fixed host port (so a restart keeps the url).
 */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const bin = redisServerBinary();
  const server = bin ? localRedis(bin, port) : await containerRedis(port);
  await server.start();
  return server;
}

/** Sends PING until Redis at 127.0.0.1:port answers PONG, or throws after timeoutMs. */
export async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await pingOnce(port);
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`Redis on 127.0.0.1:${port} did not answer PING within ${timeoutMs} ms: ${String(lastError)}`);
}

// A raw socket instead of ioredis: no reconnect logic or error events to silence.
function pingOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    const done = (err?: Error) => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.setTimeout(1_000, () => done(new Error('PING timed out')));
    socket.once('error', done);
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') ? undefined : new Error(reply.trim()));
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

// Children still running when the worker process exits are killed with it.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function localRedis(bin: string, port: number): RedisServer {
  const version = /v=(\S+)/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  let child: ChildProcess | undefined;

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    description: `local redis-server ${version}`,

    async start() {
      if (child) return;
      const args = ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1', '--dir', tmpdir()];
      const proc = spawn(bin, args, { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      running.add(proc);
      let output = '';
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-4_000);
      };
      proc.stdout?.on('data', keep);
      proc.stderr?.on('data', keep);
      const died = new Promise<never>((_, reject) => {
        proc.once('error', reject);
        proc.once('exit', (code, signal) => {
          running.delete(proc);
          if (child === proc) child = undefined;
          reject(new Error(`redis-server on port ${port} exited (${signal ?? code}):\n${output}`));
        });
      });
      died.catch(() => {}); // a later, normal exit is not an error
      try {
        await Promise.race([waitForPing(port), died]);
      } catch (err) {
        proc.kill('SIGKILL');
        throw err;
      }
    },

    async stop() {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const force = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(force);
    },
  };
}

async function containerRedis(port: number): Promise<RedisServer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  let container: StartedTestContainer | undefined;

  return {
    // Docker publishes the fixed port on every host interface.
    url: `redis://127.0.0.1:${port}`,
    port,
    description: `docker ${REDIS_IMAGE}`,

    async start() {
      if (container) return;
      container = await new GenericContainer(REDIS_IMAGE)
        .withCommand(['redis-server', '--save', '', '--appendonly', 'no'])
        .withExposedPorts({ container: 6379, host: port })
        .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
        .start();
      await waitForPing(port);
    },

    async stop() {
      const c = container;
      container = undefined;
      await c?.stop();
    },
  };
}
