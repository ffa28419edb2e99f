// The baseline for the worker process benchmark: a bare BullMQ Worker in a
// process of its own, with the same handler cost as cleanup_uploads on an empty
// uploads folder (one listing of the folder). Env: REDIS_URL, QUEUE_PREFIX, UPLOADS_DIR.
import { readdir } from 'node:fs/promises';
import { Worker } from 'bullmq';
import { requiredEnv } from './required-env.ts';

const uploadsDir = requiredEnv('UPLOADS_DIR');

const worker = new Worker(
  'default',
  async () => {
    await readdir(uploadsDir, { withFileTypes: true });
  },
  { connection: { url: requiredEnv('REDIS_URL') }, prefix: requiredEnv('QUEUE_PREFIX'), concurrency: 10 },
);
await worker.waitUntilReady();
console.log('raw worker ready');

process.once('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
