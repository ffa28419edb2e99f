import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/dev/free-port.ts';
import { spawnScript, stopAll, type ChildScript } from './harness/process.ts';
import { services, uniquePrefix } from './harness/services.ts';

// npm start (src/cmd/dev.ts) as a developer runs it, against the test run's Redis
// and mail catcher: dev.ts finds them answering and starts none of its own.
const PATH = '/admin/system/jobs';
const BANNER_END = /^dev +│ {3}Stop {8}Ctrl-C$/m;
const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });
const started: ChildScript[] = [];

async function startDev(adminPassword: string) {
  const port = await freePort();
  const dev = spawnScript('src/cmd/dev.ts', {
    PORT: String(port),
    REDIS_URL: services().redisUrl,
    SMTP_URL: services().smtpUrl,
    MAIL_UI_URL: services().mailUiUrl,
    QUEUE_PREFIX: uniquePrefix('dev-start'),
    DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'jobs-dev-start-')), 'app.db'),
    UPLOADS_DIR: mkdtempSync(join(tmpdir(), 'jobs-dev-start-uploads-')),
    NODE_ENV: 'development',
    ADMIN_PASSWORD: adminPassword,
  }, 'npm start');
  started.push(dev);
  // Under the 60 s hook timeout, so that a timeout fails with the output in the error.
  await dev.waitForOutput(BANNER_END, 50_000);
  // The banner's lines without the `dev      │ ` label, to compare whole lines.
  const banner = dev.output().split('\n').flatMap((line) => line.match(/^dev +│ (.*)$/)?.[1] ?? []);
  return { dev, port, banner, page: `http://127.0.0.1:${port}${PATH}` };
}

/** Ctrl-C, as a terminal sends it to npm start; resolves with its exit code. */
async function interrupt(dev: ChildScript) {
  dev.kill('SIGINT');
  return (await dev.exited).code;
}

afterAll(async () => {
  // dev.ts runs the API, worker and scheduler in process groups of their own, so
  // SIGKILLing it (stopAll) would leave them running: Ctrl-C first, to stop them too.
  await Promise.all(started.map(interrupt));
  await stopAll();
}, 60_000);

describe('npm start with no ADMIN_PASSWORD', () => {
  let run: Awaited<ReturnType<typeof startDev>>;
  beforeAll(async () => {
    run = await startDev('');
  });

  it('makes one up, prints it with the admin page, and the API takes it', async () => {
    const { port, banner, page } = run;
    expect(banner).toContain(`  Jobs admin  http://localhost:${port}${PATH}`);
    const login = banner
      .map((line) => line.match(/^ {14}log in as admin \/ (\S+) \(made up for this session; set ADMIN_PASSWORD to choose one\)$/))
      .find(Boolean);
    expect(login, banner.join('\n')).toBeDefined();
    const password = login![1]!;
    expect(password.length).toBeGreaterThanOrEqual(16);

    expect((await fetch(page)).status).toBe(401);
    expect((await fetch(page, { headers: basic('wrong') })).status).toBe(401);
    expect((await fetch(page, { headers: basic(password) })).status).toBe(200);
  });

  it('stops on Ctrl-C: exits 0, and the API port no longer answers', async () => {
    expect(await interrupt(run.dev)).toBe(0);
    expect(run.dev.output()).toMatch(/^dev +│ stopping…$/m);
    await expect(fetch(run.page)).rejects.toThrow();
  });
});

describe('npm start with ADMIN_PASSWORD set', () => {
  const password = 'given-Pw-123';
  let run: Awaited<ReturnType<typeof startDev>>;
  beforeAll(async () => {
    run = await startDev(password);
  });

  it('lets that password in and never prints it', async () => {
    expect(run.banner).toContain('              log in as admin with your ADMIN_PASSWORD');
    expect((await fetch(run.page, { headers: basic(password) })).status).toBe(200);
    expect((await fetch(run.page)).status).toBe(401);

    // Stopped first, so that the whole output, the shutdown's included, is checked.
    expect(await interrupt(run.dev)).toBe(0);
    expect(run.dev.output()).not.toContain(password);
  });
});
