// npm run exercise in a terminal: watch mode, driven through a real pseudo-terminal (util-linux `script`).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from '../../workshop/course.ts';
import { services } from '../support/services/services.ts';
import { waitUntil } from '../support/wait.ts';

const children: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

it('checks, re-checks on save, shows hints and the list on keys, and quits on q', async () => {
  const s = services();
  const progress = join(mkdtempSync(join(tmpdir(), 'workshop-watch-')), 'progress.json');
  // The solution's files, so that a save can be simulated without touching a learner's starter.
  const file = join(ROOT, 'solutions', '01-enqueue-now', 'jobs', 'client.ts');
  const command = 'node --import tsx workshop/cli/main.ts exercise 1';
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, COURSE_TARGET: 'solutions', WORKSHOP_PROGRESS_FILE: progress, REDIS_URL: s.redisUrl, SMTP_URL: s.smtpUrl, MAIL_UI_URL: s.mailUiUrl, NO_COLOR: '1', TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let screen = '';
  child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (screen += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const runs = () => screen.match(/✓ all 6 checks pass/g)?.length ?? 0;
  const seen = (what: string) => () => screen.includes(what);

  // While the check runs, the screen says which test runs, and how many passed and failed.
  await waitUntil('the running line', seen('⟳ checking exercise 01 ·'), 60_000);
  await waitUntil('the first verdict', () => runs() >= 1, 60_000);
  expect(screen).toMatch(/running: .+\(TODO \d\)/);
  expect(screen).toContain('watching solutions/01-enqueue-now/ — save a file to check again');
  expect(screen).toMatch(/h hint · d diff · l list · n next · r re-run · f unfold · q quit/);
  // A clean screen for every verdict.
  expect(screen).toContain('\x1b[2J');

  writeFileSync(file, readFileSync(file)); // a save, same bytes
  await waitUntil('a second verdict after the save', () => runs() >= 2, 30_000);

  child.stdin.write('h');
  await waitUntil('the first hint', seen('Hint 1 of 4:'), 10_000);

  child.stdin.write('l');
  await waitUntil('the list of exercises', seen('Type a number and press Enter to go there'), 10_000);
  expect(screen).toMatch(/✓ 01 {2}Enqueue now/);

  child.stdin.write('\x1b'); // Esc: back to the verdict
  child.stdin.write('r');
  await waitUntil('a third verdict after r', () => runs() >= 3, 30_000);

  // A change to the progress file from another terminal shows in the footer at once.
  expect(screen).toContain('1/11 solved');
  writeFileSync(progress, JSON.stringify({ solved: { '01-enqueue-now': 'x', '02-enqueue-later': 'y', '03-first-handler': 'z' }, hintsSeen: { '01-enqueue-now': 1 } }));
  await waitUntil('the footer to follow the progress file', seen('3/11 solved'), 10_000);

  child.stdin.write('q');
  expect(await exited).toBe(0);
  expect(screen).toContain('Progress saved.');
  expect(JSON.parse(readFileSync(progress, 'utf8')).hintsSeen).toEqual({ '01-enqueue-now': 1 });
});
