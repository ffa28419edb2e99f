import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobsClient } from '../../src/jobs/client.ts';
import { redisConnection } from '../../src/jobs/connection.ts';
import { QUEUES, type QueueName } from '../../src/jobs/defaults.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { spawnScript, stopAll, type ChildScript } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { launchChromium } from '../support/browser.ts';
import { waitUntil } from '../support/wait.ts';

// The jobs admin page as an admin uses it: the real API and worker processes,
// and bull-board's page in headless Chromium, clicked like a person would.

const PASSWORD = 'browser-Test-pw-1';
/** How long the page may take to show something: it loads in well under a second, but CI is busy. */
const SHOWN = { timeout: 10_000 };
/**
 * Screenshots land here (git-ignored). docs/admin-page.png is a copy of one,
 * taken in a clone at /home/learner/background-jobs-workshop, so that its stack
 * trace shows no real machine's paths.
 */
const SCREENSHOTS = join('test-results', 'admin-page');

const prefix = uniquePrefix('browser');
const client = new JobsClient(redisConnection({ redisUrl: services().redisUrl }), { prefix });
const root = mkdtempSync(join(tmpdir(), 'jobs-browser-'));
// The worker creates the uploads folder when it starts; without it, to the worker, storage is down.
const uploadsDir = join(root, 'uploads');
let env: Record<string, string>;
let adminUrl: string;
let worker: ChildScript;
let browser: Browser;
let admin: BrowserContext;

beforeAll(async () => {
  const port = await freePort();
  adminUrl = `http://127.0.0.1:${port}/admin/system/jobs`;
  env = {
    PORT: String(port),
    REDIS_URL: services().redisUrl,
    SMTP_URL: services().smtpUrl,
    QUEUE_PREFIX: prefix,
    DATABASE_PATH: join(root, 'app.db'),
    UPLOADS_DIR: uploadsDir,
    ADMIN_PASSWORD: PASSWORD,
    RETRY_BASE_DELAY_MS: '100',
  };
  const api = spawnScript('src/cmd/api.ts', env, 'api');
  worker = spawnScript('src/cmd/worker.ts', env, 'worker');
  [browser] = await Promise.all([
    launchChromium(),
    api.waitForOutput(/API listening/, 20_000),
    worker.waitForOutput(/worker started/, 20_000),
  ]);
  admin = await browser.newContext({ httpCredentials: { username: 'admin', password: PASSWORD }, viewport: { width: 1440, height: 900 } });
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await client.close();
  await stopAll();
});

async function open(path: string): Promise<Page> {
  const page = await admin.newPage();
  const response = await page.goto(adminUrl + path, { waitUntil: 'networkidle' });
  expect(response?.status(), `GET ${path}`).toBe(200);
  return page;
}

async function stateOf(queue: QueueName, id: string) {
  return client.queue(queue).getJobState(id);
}

async function settled(queue: QueueName, id: string) {
  return waitUntil(`job ${id} on ${queue} to finish`, async () => {
    const state = await stateOf(queue, id);
    return state === 'completed' || state === 'failed' ? state : undefined;
  });
}

describe('the jobs admin page in a browser', () => {
  it('answers 401 without a login, and asks the browser for one', async () => {
    const stranger = await browser.newContext();
    const page = await stranger.newPage();
    // With no login to give, Chromium ends the navigation with ERR_INVALID_AUTH_CREDENTIALS;
    // the answer it got is the 401 and its challenge.
    const [response, navigation] = await Promise.all([
      page.waitForResponse(adminUrl),
      page.goto(adminUrl).catch((err: Error) => err),
    ]);
    expect(response.status()).toBe(401);
    expect(response.headers()['www-authenticate']).toMatch(/^Basic /);
    expect(String(navigation)).toContain('ERR_INVALID_AUTH_CREDENTIALS');
    await stranger.close();
  });

  it('lists critical, default and low, with the counts that Redis holds', async () => {
    // A job of each kind the lesson names: done, dead at once, scheduled for later.
    const done = await Promise.all([1, 2].map((user_id) => client.enqueue('send_birthday_email', { user_id })));
    const dead = await client.enqueue('send_birthday_email', { user_id: 999 }, { queue: 'critical' });
    await Promise.all([1, 2, 3].map((order_id) => client.enqueueIn('ask_for_review', { order_id }, 60 * 60_000, { queue: 'low' })));
    for (const job of done) expect(await settled('default', job.id)).toBe('completed');
    expect(await settled('critical', dead.id)).toBe('failed');

    const overview = await open('');
    for (const queue of QUEUES) await expect.poll(() => overview.locator(`main a[title="${queue}"]`).count(), SHOWN).toBe(1);
    await overview.close();

    for (const queue of QUEUES) {
      const page = await open(`/queue/${queue}`);
      const counts = await client.queue(queue).getJobCounts('active', 'waiting', 'delayed', 'failed', 'completed');
      for (const [status, count] of Object.entries(counts)) {
        // A tab shows its count as a badge, and no badge for 0: "COMPLETED 2", "FAILED".
        const tab = page.locator(`main a[href$="/queue/${queue}?status=${status}"]`);
        await expect.poll(async () => badgeCount(await tab.innerText()), { ...SHOWN, message: `${queue} ${status}` }).toBe(count);
      }
      await page.close();
    }
  });
});

describe('a dead job on the admin page', () => {
  let id: string;

  it("shows the job's error, attempts and payload", async () => {
    // Storage is down for every attempt: 3 attempts, about 0.1 s and 0.2 s apart, then dead.
    rmSync(uploadsDir, { recursive: true });
    ({ id } = await client.enqueue('resize_image', { upload: 'holiday.png', width: 120 }, { maxRetry: 2 }));
    expect(await settled('default', id)).toBe('failed');

    // From the Failed tab, click the job to inspect it.
    const page = await open(`/queue/default?status=failed`);
    await page.locator(`main a[href*="/queue/default/${id}?"]`).click();
    await page.waitForURL(`**/queue/default/${id}**`);
    const main = page.locator('main');
    // The Error tab holds each attempt's error and stack: three attempts, three errors.
    const errors = async () => (await main.innerText()).match(/StorageUnavailableError: uploads storage is unavailable/g)?.length ?? 0;
    await expect.poll(errors, SHOWN).toBe(3);
    await page.screenshot({ path: join(SCREENSHOTS, 'dead-job-error.png') });

    // The Options tab shows how many attempts the job had.
    await main.getByRole('tab', { name: 'Options' }).click();
    await expect.poll(async () => main.innerText(), SHOWN).toMatch(/attempts:\s*3\b/);

    await main.getByRole('tab', { name: 'Data' }).click();
    await expect.poll(() => main.getByText('holiday.png').isVisible(), SHOWN).toBe(true);
    await expect.poll(() => main.getByText('120', { exact: true }).isVisible(), SHOWN).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'dead-job-payload.png') });
    await page.close();
  });

  it('re-queues it with a click: waiting until a worker runs, then completed', async () => {
    expect(id, 'the test above made the dead job').toBeDefined();
    // Stop the worker, so that the job can be seen waiting.
    worker.kill('SIGTERM');
    await worker.exited;
    // The outage is over, and the upload is there.
    mkdirSync(uploadsDir);
    await sharp({ create: { width: 400, height: 300, channels: 3, background: '#3a7' } }).png().toFile(join(uploadsDir, 'holiday.png'));

    const page = await open(`/queue/default?status=failed`);
    const card = jobCard(page, 'default', id);
    const retry = card.locator('button').first();
    await retry.hover();
    await page.getByText('Retry', { exact: true }).waitFor(); // the button's tooltip: this is the Retry button
    await retry.click();
    await page.getByRole('button', { name: 'Confirm' }).click();

    await waitUntil(`job ${id} to be waiting`, async () => (await stateOf('default', id)) === 'waiting');
    await page.close();

    worker = spawnScript('src/cmd/worker.ts', env, 'worker');
    expect(await settled('default', id)).toBe('completed');
    expect(existsSync(join(uploadsDir, 'holiday-w120.png'))).toBe(true);
  });
});

describe('the throughput chart', () => {
  it('shows a point above zero after a burst of jobs', async () => {
    const burst = await Promise.all(Array.from({ length: 30 }, () => client.enqueue('cleanup_uploads', {})));
    const poison = await client.enqueue('send_birthday_email', { user_id: 404 });
    for (const job of burst) expect(await settled('default', job.id)).toBe('completed');
    expect(await settled('default', poison.id)).toBe('failed');

    // The Failed tab of the queue: the chart above, the dead job below (docs/admin-page.png).
    const page = await open('/queue/default?status=failed');
    await page.getByText('Throughput (jobs / min)').waitFor();
    // The tiles above the chart read the same series the chart draws.
    await expect.poll(() => tileValue(page, 'Peak / min'), SHOWN).toBeGreaterThan(0);
    await expect.poll(() => tileValue(page, 'Completed (last 60 min)'), SHOWN).toBeGreaterThanOrEqual(burst.length);
    await expect.poll(() => page.locator('main svg path').count(), SHOWN).toBeGreaterThan(0);
    await page.getByText('user 404 does not exist').first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'queue-default-failed.png') });
    await page.close();
  });
});

/** jobCard is the card of one job in a queue's list: the smallest block with its link and its tabs. */
function jobCard(page: Page, queue: QueueName, id: string) {
  return page
    .locator('main div')
    .filter({ has: page.locator(`a[href*="/queue/${queue}/${id}?"]`) })
    .filter({ has: page.getByRole('tab') })
    .last();
}

function badgeCount(tabText: string): number {
  const match = /(\d+)\s*$/.exec(tabText.trim());
  return match ? Number(match[1]) : 0;
}

/** tileValue reads the number above a label in the chart's summary, "11" above "Peak / min". */
async function tileValue(page: Page, label: string): Promise<number> {
  const tile = page.locator('main div').filter({ has: page.getByText(label, { exact: true }) }).last();
  const text = await tile.innerText();
  return Number(text.replace(label, '').replace(/[^\d]/g, ''));
}
