import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { freshAppEnv } from '../support/app-env.ts';

// The real API process, sent four 50 MB orders at once: it must refuse them at
// once with 413, and its memory must stay about where it was.

const run = promisify(execFile);
const MB = 1024 * 1024;
const BODY_BYTES = 50 * MB;
/** How much the API's memory may grow over the whole attack. Reading the bodies took over 1 GB. */
const MAX_GROWTH_BYTES = 100 * MB;
/** How long a 413 may take. Reading a 50 MB body and answering it took seconds. */
const MAX_ANSWER_MS = 2_000;

let baseUrl: string;
let apiPid: number;

beforeAll(async () => {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const api = spawnScript('src/cmd/api.ts', freshAppEnv('api-memory', { PORT: String(port) }), 'api');
  await api.waitForOutput(/API listening/, 20_000);
  apiPid = api.pid;
});
afterAll(stopAll);

/** rssOf reads a process's resident memory, in bytes, with ps (Linux and macOS alike). */
async function rssOf(pid: number): Promise<number> {
  const { stdout } = await run('ps', ['-o', 'rss=', '-p', String(pid)]);
  return Number(stdout.trim()) * 1024;
}

/** watchPeak samples a process's memory every 20 ms until stop(), which resolves with the highest sample. */
function watchPeak(pid: number) {
  let peak = 0;
  let sampling = true;
  const done = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rssOf(pid));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      sampling = false;
      await done;
      return peak;
    },
  };
}

/** An order whose sku makes the JSON body `size` bytes long: valid JSON, just huge. */
function hugeOrder(size: number): Buffer {
  const head = '{"user_id":1,"quantity":1,"sku":"';
  const tail = '"}';
  return Buffer.concat([Buffer.from(head), Buffer.alloc(size - head.length - tail.length, 'x'), Buffer.from(tail)]);
}

/**
 * postBig sends `body` to POST /api/orders, with its Content-Length or else
 * chunked, and resolves with the answer as soon as it comes, while the body
 * may still be on its way. The server may then close the connection.
 */
function postBig(body: Buffer, { chunked }: { chunked: boolean }): Promise<{ status: number; error: string; ms: number }> {
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = body.length;
    const req = request(`${baseUrl}/api/orders`, { method: 'POST', headers });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk.slice(0, 1_000)));
      res.on('end', () => {
        req.destroy(); // stop sending the rest of the body
        resolve({ status: res.statusCode!, error: (JSON.parse(text) as { error: string }).error, ms: Date.now() - startedAt });
      });
    });
    // Once the server has answered, it may close the connection while we still send: that is fine.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (chunked) {
      Readable.from(chunksOf(body, 64 * 1024)).pipe(req);
    } else {
      req.end(body);
    }
  });
}

function* chunksOf(body: Buffer, size: number) {
  for (let at = 0; at < body.length; at += size) yield body.subarray(at, at + size);
}

const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

describe('four 50 MB orders at once, to the real API process', () => {
  it('are refused with 413 at once, and the memory stays where it was', async () => {
    const body = hugeOrder(BODY_BYTES);
    const before = await rssOf(apiPid);
    const peak = watchPeak(apiPid);

    const answers = await Promise.all([
      postBig(body, { chunked: false }),
      postBig(body, { chunked: false }),
      postBig(body, { chunked: false }),
      postBig(body, { chunked: true }),
    ]);
    const [after, highest] = [await rssOf(apiPid), await peak.stop()];

    console.log(
      `API memory with 4 x ${mb(BODY_BYTES)} bodies: RSS ${mb(before)} before, ${mb(after)} after` +
        ` (highest ${mb(highest)} while they came); answered in ${answers.map((a) => `${a.ms} ms`).join(', ')}` +
        ` (the last one chunked)`,
    );
    for (const answer of answers) {
      expect(answer.status).toBe(413);
      expect(answer.error).toMatch(/body is larger than/);
      expect(answer.ms).toBeLessThan(MAX_ANSWER_MS);
    }
    expect(after - before).toBeLessThan(MAX_GROWTH_BYTES);
    expect(highest - before).toBeLessThan(MAX_GROWTH_BYTES);
  });

  it('still takes a normal order afterwards', async () => {
    const res = await fetch(`${baseUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 1, sku: 'mug', quantity: 1 }),
    });
    expect(res.status).toBe(201);
  });
});
