// The workshop's command line, run as a learner runs it (no terminal: it runs once).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../workshop/course.ts';
import { nodeVersionProblem } from '../../workshop/cli/node-version.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { findMailHog } from '../../src/dev/mailhog.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { startRedisServer } from '../support/services/redis-server.ts';
import { services } from '../support/services/services.ts';

afterAll(stopAll);

const scratch = mkdtempSync(join(tmpdir(), 'workshop-cli-'));
/** Each test keeps its progress in a file of its own, never in the learner's .workshop/. */
let progressFiles = 0;
const progressFile = () => join(scratch, `progress-${progressFiles++}.json`);

/** cli runs `npm run <command>` the way package.json does, against the test's Redis and mail catcher. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const s = services();
  const child = spawnScript(
    'workshop/cli/main.ts',
    { REDIS_URL: s.redisUrl, SMTP_URL: s.smtpUrl, MAIL_UI_URL: s.mailUiUrl, WORKSHOP_PROGRESS_FILE: progressFile(), NO_COLOR: '1', ...env },
    `npm run ${args.join(' ')}`,
    args,
  );
  const { code } = await child.exited;
  return { code, output: child.output() };
}

describe('npm run exercise N, without a terminal', () => {
  it('runs the check once and exits 1 on the untouched starter, naming each failing check and the way to a hint', async () => {
    const { code, output } = await cli(['exercise', '1']);
    expect(code, output).toBe(1);
    expect(output).toContain('Exercise 01 · Enqueue now');
    // Five checks fail; the sixth, the type check, passes.
    expect(output).toMatch(/✗ 5 of 6 checks fail/);
    expect(output).toContain('✓ types: no errors in your files');
    expect(output).toContain('TODO(2) is not done yet: nothing was put on the queue');
    expect(output).toMatch(/at JobsClient\.add exercises\/01-enqueue-now\/jobs\/client\.ts:\d+/);
    expect(output).toContain('run `npm run hint 1` for a hint');
    expect(output).toContain('(already running)');
  });

  it('exits 0 and records the exercise as solved when it passes (here: checking the solution)', async () => {
    const progress = progressFile();
    const { code, output } = await cli(['exercise', '02'], { COURSE_TARGET: 'solutions', WORKSHOP_PROGRESS_FILE: progress });
    expect(code, output).toBe(0);
    expect(output).toMatch(/✓ all \d+ checks pass/);
    expect(output).toContain('Next: exercise 03');
    expect(JSON.parse(readFileSync(progress, 'utf8')).solved).toHaveProperty('02-enqueue-later');
  });

  it("passes once the solution's files are copied over the starter's", async () => {
    const file = join(ROOT, 'exercises', '01-enqueue-now', 'jobs', 'client.ts');
    const starter = readFileSync(file);
    writeFileSync(file, readFileSync(join(ROOT, 'solutions', '01-enqueue-now', 'jobs', 'client.ts')));
    try {
      const { code, output } = await cli(['exercise', '1']);
      expect(code, output).toBe(0);
      expect(output).toMatch(/✓ all 6 checks pass/);
    } finally {
      writeFileSync(file, starter);
    }
  });

  it('says which numbers exist when the exercise does not', async () => {
    const { code, output } = await cli(['exercise', '42']);
    expect(code).toBe(2);
    expect(output).toContain('There is no exercise "42". Pick a number from 1 to');
  });

  it('says how to fix a Redis it cannot use, without showing the password', async () => {
    const port = await freePort();
    const server = await startRedisServer();
    try {
      // A Redis that wants a password, given the wrong one.
      const { Redis } = await import('ioredis');
      const admin = new Redis(server.url);
      await admin.config('SET', 'requirepass', 'right-Pw');
      admin.disconnect();
      const wrong = server.url.replace('redis://', 'redis://:wr0ng-Pw@');
      const { code, output } = await cli(['exercise', '1'], { REDIS_URL: wrong });
      expect(code).toBe(2);
      expect(output).toContain('Before the check can run');
      expect(output).toMatch(/did not accept us: .*(WRONGPASS|invalid username-password)/);
      expect(output).not.toContain('wr0ng-Pw');

      const { code: far, output: farOutput } = await cli(['exercise', '1'], { REDIS_URL: `redis://192.0.2.1:${port}` });
      expect(far).toBe(2);
      expect(farOutput).toContain('Nothing answers at REDIS_URL=redis://192.0.2.1');
    } finally {
      await server.stop();
    }
  });

  it('starts Redis and a mail catcher of its own when none answers, and stops them afterwards', async () => {
    const [redisPort, smtpPort, webPort] = [await freePort(), await freePort(), await freePort()];
    const env = { REDIS_URL: `redis://127.0.0.1:${redisPort}`, SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MAIL_UI_URL: `http://127.0.0.1:${webPort}`, COURSE_TARGET: 'solutions' };
    const { code, output } = await cli(['exercise', '1'], env);
    expect(code, output).toBe(0);
    expect(output).toContain(`Redis        redis://127.0.0.1:${redisPort} (started with redis-server for this session)`);
    // The real MailHog where MAILHOG_BIN or PATH names one (CI sets MAILHOG_BIN), else MailDev.
    const mailhog = findMailHog();
    const catcher = mailhog ? `MailHog, ${mailhog.foundBy}` : 'MailDev, in-process: no MAILHOG_BIN and no mailhog on PATH';
    expect(output).toContain(`Mail inbox   http://127.0.0.1:${webPort} (${catcher}; started for this session; \`npm run inbox\` lists it in a terminal)`);
    const { isReachable } = await import('../../src/dev/reachable.ts');
    expect(await isReachable(env.REDIS_URL), 'Redis should be stopped once the check is done').toBe(false);
    expect(await isReachable(env.SMTP_URL), 'the mail catcher should be stopped once the check is done').toBe(false);
    expect(await isReachable(env.MAIL_UI_URL), 'the mail catcher should be stopped once the check is done').toBe(false);
    // It starts a Redis, MailDev and Vitest of its own: more than 30 s on a busy 2-core machine.
  }, 90_000);
});

describe('npm run hint, diff, solution and reset', () => {
  it('hint gives one more hint each time, then says they are all out', async () => {
    const progress = progressFile();
    const first = await cli(['hint', '1'], { WORKSHOP_PROGRESS_FILE: progress });
    expect(first.output).toContain('Hint 1 of 4:');
    expect(first.output).not.toContain('Hint 2 of 4:');
    const second = await cli(['hint', '1'], { WORKSHOP_PROGRESS_FILE: progress });
    expect(second.output).toContain('Hint 2 of 4:');
    const all = await cli(['hint', '1', '--all'], { WORKSHOP_PROGRESS_FILE: progress });
    expect(all.output).toContain('Hint 4 of 4:');
    expect(all.output).toContain('That is every hint');
  });

  it('diff shows the starter\'s code against the solution\'s, without its 🐨 comments', async () => {
    const { code, output } = await cli(['diff', '1']);
    expect(code).toBe(0);
    expect(output).toContain('--- exercises/01-enqueue-now/jobs/client.ts');
    expect(output).toContain('+++ solutions/01-enqueue-now/jobs/client.ts');
    expect(output).toMatch(/^-\s+throw new Error\('TODO\(2\) is not done yet/m);
    expect(output, 'the marker comments are not code').not.toMatch(/🐨|💰|📜/);
    expect(output).toMatch(/^\+\s+const job = await this\.queue\(queueName\)\.add/m);
  });

  it('solution prints why the solution works and where its files are', async () => {
    const { code, output } = await cli(['solution', '1']);
    expect(code).toBe(0);
    expect(output).toContain('01 · Enqueue now: the solution');
    expect(output).toContain('solutions/01-enqueue-now/jobs/client.ts');
  });

  it('reset puts the starter back from git, keeps the learner\'s file as a backup, and forgets the exercise was solved (not the hints seen)', async () => {
    const file = join(ROOT, 'exercises', '01-enqueue-now', 'jobs', 'client.ts');
    const starter = readFileSync(file);
    const progress = progressFile();
    writeFileSync(progress, JSON.stringify({ solved: { '01-enqueue-now': 'yesterday' }, hintsSeen: { '01-enqueue-now': 3 } }));
    const mine = `${starter.toString()}\n// my own attempt\n`;
    writeFileSync(file, mine);
    let backup: string | undefined;
    try {
      const { code, output } = await cli(['reset', '1'], { WORKSHOP_PROGRESS_FILE: progress });
      expect(code, output).toBe(0);
      expect(readFileSync(file).equals(starter), 'the file should be the starter again').toBe(true);
      backup = /kept in (\S+)\//.exec(output)?.[1];
      expect(backup, output).toBeDefined();
      expect(readFileSync(join(ROOT, backup!, 'jobs', 'client.ts'), 'utf8')).toBe(mine);
      expect(JSON.parse(readFileSync(progress, 'utf8'))).toEqual({ solved: {}, hintsSeen: { '01-enqueue-now': 3 } });
    } finally {
      writeFileSync(file, starter);
      if (backup) rmSync(join(ROOT, backup), { recursive: true, force: true });
    }
    expect(existsSync(file)).toBe(true);
  });
});

describe('npm run reset in a terminal', () => {
  /** inTerminal runs the CLI in a pseudo-terminal (util-linux `script`), answering `answer` to its question. */
  async function inTerminal(args: string[], answer: string, progress: string) {
    const child = spawn('script', ['-qfec', `node --import tsx workshop/cli/main.ts ${args.join(' ')}`, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, WORKSHOP_PROGRESS_FILE: progress, NO_COLOR: '1', TERM: 'xterm' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Reset? [y/N]') && answer) {
        child.stdin.write(`${answer}\n`);
        answer = '';
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, output };
  }

  it('asks before it puts the starter back: n keeps the file, y resets it, --yes does not ask', async () => {
    const file = join(ROOT, 'exercises', '01-enqueue-now', 'jobs', 'client.ts');
    const starter = readFileSync(file);
    const mine = `${starter.toString()}\n// my own attempt\n`;
    const progress = progressFile();
    const backups: string[] = [];
    writeFileSync(file, mine);
    try {
      const no = await inTerminal(['reset', '1'], 'n', progress);
      expect(no.output).toContain('exercises/01-enqueue-now/jobs/client.ts');
      expect(no.output).toContain('Your versions go to .workshop/backups/01-enqueue-now/');
      expect(no.output).toContain('Nothing was changed.');
      expect(readFileSync(file, 'utf8'), 'n keeps the learner\'s file').toBe(mine);

      const yes = await inTerminal(['reset', '1'], 'y', progress);
      expect(yes.code, yes.output).toBe(0);
      expect(readFileSync(file).equals(starter), 'y puts the starter back').toBe(true);
      backups.push(/kept in (\S+)\//.exec(yes.output)?.[1] ?? '');

      writeFileSync(file, mine);
      const forced = await inTerminal(['reset', '1', '--yes'], '', progress);
      expect(forced.output).not.toContain('Reset? [y/N]');
      expect(readFileSync(file).equals(starter), '--yes resets without asking').toBe(true);
      backups.push(/kept in (\S+)\//.exec(forced.output)?.[1] ?? '');
    } finally {
      writeFileSync(file, starter);
      for (const backup of backups.filter(Boolean)) rmSync(join(ROOT, backup), { recursive: true, force: true });
    }
  });
});

describe('the Node.js version check', () => {
  it('accepts 20.19 and newer, and says how to upgrade from older', () => {
    expect(nodeVersionProblem('20.19.0')).toBeUndefined();
    expect(nodeVersionProblem('24.1.0')).toBeUndefined();
    expect(nodeVersionProblem('20.18.1')).toMatch(/needs Node\.js 20\.19 or newer, and this is 20\.18\.1[\s\S]*nvm install/);
    expect(nodeVersionProblem('18.20.0')).toBeDefined();
  });
});
