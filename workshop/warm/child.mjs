// A learner's process, started ahead of time (see ./host.ts). It loads the
// app's heavy packages, the part of a start that never changes, and waits.
// When a check asks for a process, the host writes one line to its stdin,
// `{ "args": ["worker", "4"], "env": {…} }`, and it becomes exactly what
// `node --import tsx workshop/run.ts worker 4` would be: tsx registered as
// `--import tsx` registers it, that environment and argv, and run.ts, which
// reads the app's and the learner's files fresh from disk.
//
// JavaScript, not TypeScript: the packages load before tsx is registered,
// so that its hooks do not slow them down (a third of their load time).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../run.ts', import.meta.url));
const { packages } = JSON.parse(readFileSync(new URL('./packages.json', import.meta.url), 'utf8'));

const go = new Promise((resolve, reject) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    text += chunk;
    const end = text.indexOf('\n');
    if (end >= 0) resolve(JSON.parse(text.slice(0, end)));
  });
  process.stdin.on('end', () => reject(new Error('the host closed before it said what to run')));
});
go.catch(() => {}); // awaited below, once the packages are in

// A package that fails to load here fails again, with its real error, when the app imports it.
await Promise.all(packages.map((name) => import(name).catch(() => undefined)));
await import('tsx');

const { args, env } = await go;
// The command a check runs reads nothing from stdin: neither does this one now.
process.stdin.destroy();
for (const key of Object.keys(process.env)) delete process.env[key];
Object.assign(process.env, env);
process.argv = [process.argv[0], RUN, ...args];
await import(RUN);
