// node --import tsx bench/profile.ts: CPU profiles (node --cpu-prof) of the
// processes users run, under the benchmark's load: the worker and a bare BullMQ
// Worker on the cleanup_uploads run, and the API on each route under load.
// Prints the top self-time functions of each while the jobs or requests ran
// (start-up left out), and the share of that busy time under the code the
// benchmark suspects. The .cpuprofile files are kept, for DevTools.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/dev/free-port.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { apiLoad, type Route } from './api-load.ts';
import { busyMs, formatTop, inclusiveShare, readProfile, topSelf, type Windows } from './cpuprofile-top.ts';
import { startMailCatcherProcess } from './mail-catcher.ts';
import { workerProcessRate, type WorkerKind } from './worker-process.ts';
import { arg } from './arg.ts';

type Frame = { functionName: string; url: string };
const inFile = (path: string) => (frame: Frame) => frame.url.includes(path);

/** The code the issue asks about, each as a test on a stack frame. */
const SUSPECTS: [string, (frame: Frame) => boolean][] = [
  ['pino, all of it (logging)', inFile('node_modules/pino/')],
  ['pino child() (the child logger per job)', (f) => f.functionName === 'child' && f.url.includes('node_modules/pino/')],
  ['redaction (@pinojs/redact)', inFile('redact')],
  ['secret scrubber (src/log-secrets.ts)', inFile('src/log-secrets.ts')],
  ['job event log lines (src/jobs/job-log.ts)', inFile('src/jobs/job-log.ts')],
  ['payload schema check (zod)', inFile('node_modules/zod/')],
  ['EventEmitter emit', (f) => f.functionName === 'emit' && f.url === 'node:events'],
  ['BullMQ', inFile('node_modules/bullmq/')],
  ['ioredis', inFile('node_modules/ioredis/')],
  ['SQLite, via src/db', inFile('/src/db/')],
  ['outbox relay (OutboxRelay)', (f) => f.url.includes('src/jobs/outbox.ts') && /relayPending|kick/.test(f.functionName)],
  ['hono + @hono/node-server', inFile('node_modules/@hono/node-server/')],
  ['JobServer (src/jobs/server.ts)', inFile('src/jobs/server.ts')],
  ['ServeMux.process (src/jobs/mux.ts)', inFile('src/jobs/mux.ts')],
  ['the handler (src/jobs/handlers.ts, src/storage)', (f) => f.url.includes('src/jobs/handlers.ts') || f.url.includes('src/storage/')],
  ['sonic-boom (log output)', inFile('node_modules/sonic-boom/')],
  ['garbage collector', (f) => f.functionName === '(garbage collector)'],
];

async function report(title: string, dir: string, windows: Windows, units: number, unit: string) {
  const [file] = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile in ${dir}`);
  const profile = readProfile(join(dir, file));
  const busy = busyMs(profile, windows);
  console.log(`\n${title}: busy ${busy.toFixed(0)} ms, ${((busy * 1000) / units).toFixed(0)} µs per ${unit} (${join(dir, file)})`);
  console.log('Top self time (% of busy time):');
  console.log(formatTop(topSelf(profile, 20, windows)));
  console.log('Busy time under:');
  for (const [label, test] of SUSPECTS) {
    const share = inclusiveShare(profile, test, windows);
    if (share >= 0.05) console.log(`  ${share.toFixed(1).padStart(5)}%  ${label}`);
  }
}

/** `--only worker` or `--only api` profiles one half. */
const only = arg('--only');
const JOBS = 5_000;
const SECONDS = 5;
const cpuProf = (dir: string) => ({ nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=250'] });

const port = await freePort();
const work = await mkdtemp(join(tmpdir(), 'bench-profile-'));
const redis = await startLocalRedis(port, join(work, 'redis'));
const redisUrl = `redis://127.0.0.1:${port}`;
const mail = await startMailCatcherProcess();
await mkdir(join(work, 'uploads'));
try {
  for (const kind of (only === 'api' ? [] : ['raw BullMQ Worker', 'npm run worker']) as WorkerKind[]) {
    const dir = join(work, kind.replace(/\W+/g, '-'));
    const result = await workerProcessRate(kind, {
      redisUrl,
      prefix: dir.slice(-12),
      jobs: JOBS,
      uploadsDir: join(work, 'uploads'),
      databasePath: join(work, 'worker.db'),
      smtpUrl: mail.smtpUrl,
      node: cpuProf(dir),
    });
    const cpu = result.cpuUsPerJob === undefined ? '' : `, ${result.cpuUsPerJob.toFixed(0)} µs CPU per job (user + system)`;
    await report(`${kind}, ${JOBS} cleanup_uploads jobs at ${result.jobsPerSecond.toFixed(0)} jobs/s${cpu}`, dir, [result.window], JOBS, 'job');
  }
  for (const route of (only === 'worker' ? [] : ['birthday', 'orders']) as Route[]) {
    const dir = join(work, `api-${route}`);
    const { results, windows } = await apiLoad({ redisUrl, prefix: `profile-${route}`, connections: [10, 50], seconds: SECONDS, routes: [route], node: cpuProf(dir) });
    const loads = [...results].map(([connections, byRoute]) => ({ connections, load: byRoute[route]! }));
    const requests = loads.reduce((sum, { load }) => sum + load.rps * SECONDS, 0);
    const summary = loads.map(({ connections, load }) => `${connections} conn: p50 ${load.p50.toFixed(2)} ms, p99 ${load.p99.toFixed(2)} ms, ${load.rps.toFixed(0)} req/s, ${load.cpuUsPerRequest?.toFixed(0)} µs CPU per request`).join('; ');
    await report(`API, ${route === 'birthday' ? 'POST /api/dev/send-birthday/1' : 'POST /api/orders'} (${summary})`, dir, windows, requests, 'request');
  }
} finally {
  await mail.stop();
  await redis.stop();
  await rm(join(work, 'redis'), { recursive: true, force: true });
}
