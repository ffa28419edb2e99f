import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { Redis } from 'ioredis';

const MISSING = [
  'npm start needs Redis and found none: no Docker engine answers and there is no `redis-server` on PATH.',
  'Install one of them and run npm start again:',
  '  Debian/Ubuntu: sudo apt-get install redis-server',
  '  macOS:         brew install redis',
  '  or Docker:     https://docs.docker.com/get-docker/',
].join('\n');

/**
 * startLocalRedis runs the `redis-server` binary on 127.0.0.1:port, with the
 * settings BullMQ advises for production: AOF on (jobs survive a restart) and
 * `noeviction` (Redis never drops a job's keys to free memory). It resolves once
 * Redis answers PING; stop() shuts it down cleanly.
 */
export async function startLocalRedis(port: number, dataDir: string): Promise<{ stop(): Promise<void> }> {
  await mkdir(dataDir, { recursive: true });
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dataDir];
  args.push('--appendonly', 'yes', '--maxmemory-policy', 'noeviction');
  // Its own process group, so a Ctrl-C in the terminal reaches only npm start,
  // which stops Redis last, after the worker has drained its jobs.
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });

  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited: string | undefined;
  child.once('error', (err: NodeJS.ErrnoException) => (exited = err.code === 'ENOENT' ? MISSING : err.message));
  const lastLines = () => output.trim().split('\n').slice(-4).join('\n');
  child.once('exit', (code, signal) => (exited ??= `redis-server exited (${signal ?? code}):\n${lastLines()}`));

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) throw new Error(exited);
    if (child.pid && (await servingPid(port)) === child.pid) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING within 10 s:\n${lastLines()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM'); // Redis flushes the AOF, then exits
      const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await done;
      clearTimeout(force);
    },
  };
}

// The pid of the Redis that answers PING on the port, if one does. A command
// rather than a TCP check: while Redis loads its AOF it accepts connections but
// answers LOADING. The pid tells our Redis from another one already on the port.
async function servingPid(port: number): Promise<number | undefined> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {}); // a refused connection is an answer here, not an error
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

