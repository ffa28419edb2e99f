// npm run exercise on a machine without redis-server (macOS or Windows with
// Docker Desktop): Redis comes from docker-compose.yml, as npm start starts it.
// A stand-in `docker` on PATH plays the engine and Compose, and runs a real
// Redis for `up`; PATH holds nothing else, so there is no redis-server to find.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { isReachable } from '../../src/dev/reachable.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';

/** The stand-in Redis of each test, stopped afterwards even when the CLI did not stop it. */
const pidFiles: string[] = [];
afterAll(async () => {
  await stopAll();
  for (const file of pidFiles.filter((f) => existsSync(f))) {
    try {
      process.kill(Number(readFileSync(file, 'utf8').trim()), 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

const REDIS_SERVER = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();

/** fakeDocker writes a `docker` that answers `info` and `compose version`, and runs redis-server for `compose … up -d redis`. */
function fakeDocker(dir: string): { bin: string; calls: () => string[] } {
  const bin = join(dir, 'bin');
  const log = join(dir, 'calls.log');
  execFileSync('mkdir', ['-p', bin]);
  writeFileSync(
    join(bin, 'docker'),
    `#!/bin/sh
echo "$*" >> ${log}
case "$*" in
  "info --format {{.ServerVersion}}") echo 28.2.2 ;;
  "compose version") echo "Docker Compose version v2.30.0" ;;
  *" up -d redis") exec ${REDIS_SERVER} --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --pidfile ${dir}/redis.pid --logfile ${dir}/redis.log ;;
  *" stop redis") read -r pid < ${dir}/redis.pid; kill "$pid"; while kill -0 "$pid" 2>/dev/null; do /bin/sleep 0.05; done ;;
  *) exit 1 ;;
esac
`,
  );
  chmodSync(join(bin, 'docker'), 0o755);
  pidFiles.push(join(dir, 'redis.pid'));
  return { bin, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

describe('npm run exercise without redis-server', () => {
  it('starts Redis with docker compose, on REDIS_URL\'s port, and stops it on the way out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-redis-server-'));
    const docker = fakeDocker(dir);
    const [redisPort, smtpPort, webPort] = [await freePort(), await freePort(), await freePort()];
    const env = {
      PATH: docker.bin,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      MAIL_UI_URL: `http://127.0.0.1:${webPort}`,
      COURSE_TARGET: 'solutions',
      WORKSHOP_PROGRESS_FILE: join(dir, 'progress.json'),
      NO_COLOR: '1',
    };
    const child = spawnScript('workshop/cli/main.ts', env, 'npm run exercise 1', ['exercise', '1']);
    const { code } = await child.exited;
    expect(code, `${child.output()}\n${docker.calls().join('\n')}`).toBe(0);
    expect(child.output()).toContain(`Redis        redis://127.0.0.1:${redisPort} (started with docker compose for this session)`);
    expect(child.output()).toContain('✓ all 6 checks pass');
    const calls = docker.calls();
    expect(calls.some((c) => c.endsWith('up -d redis')), calls.join('\n')).toBe(true);
    expect(calls.at(-1), 'the Redis it started is stopped on the way out').toMatch(/ stop redis$/);
    expect(await isReachable(env.REDIS_URL)).toBe(false);
  }, 90_000);

  it('says what to install when there is neither redis-server nor a Docker engine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-redis-at-all-'));
    const port = await freePort();
    const child = spawnScript('workshop/cli/main.ts', { PATH: join(dir, 'empty'), REDIS_URL: `redis://127.0.0.1:${port}`, NO_COLOR: '1' }, 'npm run exercise 1', ['exercise', '1']);
    const { code } = await child.exited;
    expect(code, child.output()).toBe(2);
    expect(child.output()).toContain('this machine has no `redis-server` and no Docker engine to start one with');
    expect(child.output()).toContain('brew install redis');
  }, 60_000);
});
