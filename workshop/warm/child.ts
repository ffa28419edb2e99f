/**
 * A learner's process, started ahead of time (see ./host.ts). It loads the
 * app's heavy dependencies, the part of a start that never changes, and then
 * waits. When a check asks for a process, the host writes one line to its
 * stdin, `{ "args": ["worker", "4"], "env": {…} }`, and it becomes exactly
 * what `node --import tsx workshop/run.ts worker 4` would be: the same
 * environment, the same argv, the same entry point, the learner's files read
 * fresh from disk.
 */
import { fileURLToPath } from 'node:url';

/** What the host sends: run.ts's arguments and the whole environment of the process. */
export interface Go {
  args: string[];
  env: Record<string, string>;
}

const RUN = fileURLToPath(new URL('../run.ts', import.meta.url));

/**
 * PRELOAD: the packages the app's processes import, which take most of a
 * start (bullmq alone about a third). Only packages: the app's own files and
 * the learner's are read after the go, so a save is never missed.
 */
const PRELOAD = [
  'bullmq',
  'ioredis',
  'hono',
  '@hono/node-server',
  'better-sqlite3',
  'nodemailer',
  'pino',
  'pino-pretty',
  'zod',
  'sharp',
  '@bull-board/api',
  '@bull-board/hono',
];

const go = new Promise<Go>((resolve, reject) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    text += chunk;
    const end = text.indexOf('\n');
    if (end >= 0) resolve(JSON.parse(text.slice(0, end)) as Go);
  });
  process.stdin.on('end', () => reject(new Error('the host closed before it said what to run')));
});
go.catch(() => {}); // awaited below, once the packages are in
// A package that fails to load here fails again, with its real error, when the app imports it.
await Promise.all(PRELOAD.map((name) => import(name).catch(() => undefined)));

const { args, env } = await go;
// The command a check runs reads nothing from stdin: neither does this one now.
process.stdin.destroy();
for (const key of Object.keys(process.env)) delete process.env[key];
Object.assign(process.env, env);
process.argv = [process.argv[0]!, RUN, ...args];
await import(RUN);
