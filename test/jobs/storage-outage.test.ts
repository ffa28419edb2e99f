import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { OrderRepo } from '../../src/db/orders.ts';
import { UserRepo } from '../../src/db/users.ts';
import { Handlers } from '../../src/jobs/handlers.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { createSmtpMailer } from '../../src/mail/mailer.ts';
import { Uploads } from '../../src/storage/uploads.ts';
import { services } from '../support/services/services.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

// Storage taken down from outside the worker, the way a learner does it: the
// uploads folder is moved away while jobs run, then moved back.
const bed = jobsTestbed('storage-outage');
const db = openDatabase(':memory:');
const mailer = createSmtpMailer(services().smtpUrl, 'Workshop Shop <shop@example.test>');
let root: string;
let uploads: Uploads;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'storage-outage-'));
  uploads = new Uploads(join(root, 'uploads'));
  await uploads.ensureFolder();
  await uploads.write('photo.png', await sharp({ create: { width: 400, height: 300, channels: 3, background: '#ff8800' } }).png().toBuffer());

  const mux = new ServeMux();
  new Handlers({ mailer, uploads, users: new UserRepo(db), orders: new OrderRepo(db), digestTo: 'digest@example.test' }).register(mux);
  await bed.startServer(mux, { queues: { default: 1 }, retry: { baseDelayMs: 100, maxDelayMs: 400 } });
});
afterAll(async () => {
  await bed.cleanup();
  mailer.close();
  db.close();
  await rm(root, { recursive: true, force: true });
});

const queue = () => bed.client.queue('default');

describe('resize_image while the uploads folder is missing', () => {
  it('fails and is retried with backoff, not dead, and completes once the folder is back', async () => {
    const parked = join(root, 'uploads.off');
    await rename(uploads.dir, parked);

    const { id } = await bed.client.enqueue('resize_image', { upload: 'photo.png', width: 100 }, { maxRetry: 20 });
    const failedTwice = await waitUntil('two failed attempts', async () => {
      const job = await queue().getJob(id);
      return job && job.attemptsMade >= 2 ? job : undefined;
    });
    expect(failedTwice.failedReason).toMatch(/uploads storage is unavailable: the folder .*uploads is missing/);
    expect(await queue().getJobState(id)).not.toBe('failed');

    await rename(parked, uploads.dir);
    await waitUntil('the job to complete', async () => (await queue().getJobState(id)) === 'completed');
    const meta = await sharp(await uploads.read('photo-w100.png')).metadata();
    expect({ width: meta.width, height: meta.height }).toEqual({ width: 100, height: 75 });
  });

  it('while a missing file in a folder that is there goes dead at once, with no retries', async () => {
    const { id } = await bed.client.enqueue('resize_image', { upload: 'missing.png', width: 100 }, { maxRetry: 20 });
    await waitUntil('the job to be dead', async () => (await queue().getJobState(id)) === 'failed');
    const job = await queue().getJob(id);
    expect(job).toMatchObject({ attemptsMade: 1, failedReason: 'upload "missing.png" does not exist' });
  });
});
