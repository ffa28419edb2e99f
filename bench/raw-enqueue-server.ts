// The baseline for the enqueue route under load: a bare node:http server whose
// only work per request is one BullMQ `queue.add`, with the same job options the
// API's JobsClient uses. Env: REDIS_URL, QUEUE_PREFIX, PORT.
import { createServer } from 'node:http';
import { Queue } from 'bullmq';
import { JobsClient } from '../src/jobs/client.ts';
import { requiredEnv } from './required-env.ts';


const queue = new Queue('default', { connection: { url: requiredEnv('REDIS_URL') }, prefix: requiredEnv('QUEUE_PREFIX') });
await queue.waitUntilReady();
// Only for its options (attempts, backoff, how many finished jobs to keep): it opens no connection.
const options = new JobsClient({}).jobOptions();

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    queue.add('send_birthday_email', { user_id: 1 }, options).then(
      (job) => {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ job_id: job.id, queue: 'default' }));
      },
      (err: Error) => {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: err.message }));
      },
    );
  });
});
server.listen(Number(requiredEnv('PORT')), '127.0.0.1', () => console.log('raw enqueue server listening'));

process.once('SIGTERM', () => {
  server.close();
  void queue.close().then(() => process.exit(0));
});
