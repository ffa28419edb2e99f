import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { freePort } from '../../../src/dev/free-port.ts';
import { spawnScript, stopAll, type ChildScript } from '../child-script.ts';
import { services, uniquePrefix } from '../services/services.ts';
import { killAllRedis } from './killable-redis.ts';

/** One app's settings: its own queues (prefix), a fresh database (so order ids start at 1) and uploads folder. */
export interface AppSetup {
  prefix: string;
  databasePath: string;
  env: Record<string, string>;
}

const tempDirs = new Set<string>();

function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `chaos-${label}-`));
  tempDirs.add(dir);
  return dir;
}

/** freshApp returns the env of an API and worker that share one database and one queue prefix on `redisUrl`. */
export function freshApp(label: string, redisUrl: string, extraEnv: Record<string, string> = {}): AppSetup {
  const prefix = uniquePrefix(`chaos-${label}`);
  const databasePath = join(tempDir(label), 'app.db');
  const env = {
    REDIS_URL: redisUrl,
    SMTP_URL: services().smtpUrl,
    QUEUE_PREFIX: prefix,
    DATABASE_PATH: databasePath,
    UPLOADS_DIR: tempDir(`${label}-uploads`),
    ...extraEnv,
  };
  return { prefix, databasePath, env };
}

export interface RunningApi {
  process: ChildScript;
  baseUrl: string;
}

export async function startApi(app: AppSetup): Promise<RunningApi> {
  const port = await freePort();
  const api = spawnScript('src/cmd/api.ts', { ...app.env, PORT: String(port) }, 'api');
  await api.waitForOutput(/API listening/, 30_000);
  return { process: api, baseUrl: `http://127.0.0.1:${port}` };
}

export async function startWorker(app: AppSetup, label = 'worker'): Promise<ChildScript> {
  const worker = spawnScript('src/cmd/worker.ts', app.env, label);
  await worker.waitForOutput(/worker started/, 30_000);
  return worker;
}

/**
 * slowWorker runs test/support/fixtures/slow-worker.ts: one task, resize_image, that
 * takes jobMs and then pushes `<job id>@<pid>` onto the Redis list
 * `<prefix>:done`, so every run of a handler can be counted, even one whose
 * worker died before BullMQ recorded the job as completed.
 */
export function slowWorker(prefix: string, jobMs: number, label: string, env: Record<string, string> = {}): ChildScript {
  return spawnScript('test/support/fixtures/slow-worker.ts', { REDIS_URL: services().redisUrl, QUEUE_PREFIX: prefix, JOB_MS: String(jobMs), ...env }, label);
}

/** One finished run of a slow worker's handler. */
export interface HandlerRun {
  jobId: string;
  pid: number;
}

/** handlerRuns reads the slow workers' `<prefix>:done` list, oldest first. */
export async function handlerRuns(redis: Redis, prefix: string): Promise<HandlerRun[]> {
  return (await redis.lrange(`${prefix}:done`, 0, -1)).map((entry) => {
    const [jobId, pid] = entry.split('@');
    return { jobId: jobId!, pid: Number(pid) };
  });
}

/** The pid of a script that logs with pino: every JSON line carries it. */
export function pidOf(script: ChildScript): number {
  for (const line of script.output().split('\n')) {
    const pid = /"pid":(\d+)/.exec(line)?.[1];
    if (pid) return Number(pid);
  }
  throw new Error(`no pid in the output yet:\n${script.output().slice(-2_000)}`);
}

/** For afterAll: SIGKILLs every process and Redis the scenario started, and deletes its temporary folders. */
export async function cleanUpChaos(): Promise<void> {
  await stopAll();
  await killAllRedis();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
