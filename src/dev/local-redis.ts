import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { watchService } from './service-process.ts';
import { spawnTethered } from './tethered.ts';

const MISSING = [
  'npm start needs Redis and found none: no Docker engine answers and there is no `redis-server` on PATH.',
  'Install one of them and run npm start again:',
  '  Debian/Ubuntu: sudo apt-get install redis-server',
  '  macOS:         brew install redis',
  '  or Docker:     https://docs.docker.com/get-docker/',
].join('\n');

/** LocalRedis is a redis-server that this process started. */
export interface LocalRedis {
  /** The server's version, e.g. 7.0.15. */
  version: string;
  stop(): Promise<void>;
  /** kill SIGKILLs it, as a crash would: what it wrote to its AOF is all that is left. */
  kill(): Promise<void>;
}

/**
 * startLocalRedis runs the `redis-server` binary on 127.0.0.1:port with
 * `noeviction`, BullMQ's advice (Redis never drops a job's keys to free
 * memory). With a dataDir it also turns AOF on, so jobs survive a restart;
 * without one it keeps nothing on disk, as tests want. With a password, clients
 * must log in with it (requirepass). `args` are more redis-server options,
 * after these (a later option wins), such as a cluster node's. It resolves
 * once Redis answers PING; stop() shuts it down cleanly. Should this process
 * exit without calling stop(), Redis is killed with it; should it die
 * (SIGKILL), Redis gets SIGTERM (see spawnTethered).
 */
export async function startLocalRedis(
  port: number,
  dataDir?: string,
  opts: { password?: string; args?: string[] } = {},
): Promise<LocalRedis> {
  // `-` reads a config file from stdin, so the password never shows in `ps`;
  // the options after it add to that config.
  const args = ['-', '--bind', '127.0.0.1', '--port', String(port), '--maxmemory-policy', 'noeviction'];
  if (dataDir) {
    await mkdir(dataDir, { recursive: true });
    args.push('--dir', dataDir, '--appendonly', 'yes');
  } else {
    args.push('--dir', tmpdir(), '--save', '', '--appendonly', 'no');
  }
  args.push(...(opts.args ?? []));
  // Its own process group, so a Ctrl-C in the terminal reaches only npm start,
  // which stops Redis last, after the worker has drained its jobs.
  const child = spawnTethered('redis-server', args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  child.stdin.on('error', () => {}); // a binary that is missing or exits at once closes it early
  child.stdin.end(opts.password ? `requirepass ${configString(opts.password)}\n` : '');

  const service = watchService(child, 'redis-server', (err) => (err.code === 'ENOENT' ? MISSING : err.message));

  const deadline = Date.now() + 10_000;
  let version: string | undefined;
  for (;;) {
    const exited = service.exited();
    if (exited) throw new Error(exited);
    const serving = await servingRedis(port, opts.password);
    if (serving && serving.pid === child.pid) {
      version = serving.version;
      break;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING within 10 s:\n${service.lastLines()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    version,
    stop: service.stop, // Redis flushes the AOF on SIGTERM, then exits
    kill: service.kill,
  };
}

// The pid and version of the Redis that answers PING on the port, if one does.
// A command rather than a TCP check: while Redis loads its AOF it accepts
// connections but answers LOADING. The pid tells our Redis from another one
// already on the port.
async function servingRedis(port: number, password?: string): Promise<{ pid: number; version: string } | undefined> {
  const client = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {}); // a refused connection is an answer here, not an error
  try {
    await client.connect();
    if ((await client.ping()) !== 'PONG') return undefined;
    const info = await client.info('server');
    return { pid: Number(/process_id:(\d+)/.exec(info)?.[1]), version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown' };
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}


/** configString quotes a value for redis.conf, where a password may hold spaces, quotes or backslashes. */
function configString(value: string): string {
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`).replace(/\n/g, '\\n')}"`;
}
