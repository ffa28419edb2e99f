// JobServer fetches jobs by hand, and for that it leans on parts of BullMQ
// that are not its public API: the worker's lock manager, processJob's
// fetch-next callback, getNextJob's `block` option. A release may move any of
// them without notice. This file checks each one, so that an upgrade which
// moves one fails here, by name, rather than as a job run twice or a worker
// that hangs.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { Job, Worker, type Queue } from 'bullmq';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { QueueName } from '../../src/jobs/defaults.ts';
import { queuePrefix } from '../../src/jobs/key-prefix.ts';
import { QueueFetcher } from '../../src/jobs/queue-fetcher.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { sleep } from '../support/wait.ts';

const installed: string = createRequire(import.meta.url)('bullmq/package.json').version;
const projectPackage = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

/** Reliance is one part of BullMQ that our code uses although BullMQ does not promise it. */
interface Reliance {
  /** The member, as BullMQ's .d.ts names it. */
  member: string;
  /** Why it is not public API. */
  status: string;
  /** Which of our files use it, and for what. */
  usedBy: string;
}

/** movedMessage says what moved, who relies on it, and what to do. */
function movedMessage(reliance: Reliance, problem: string): string {
  return [
    `BullMQ ${installed} moved ${reliance.member}: ${problem}`,
    `Relied on by ${reliance.usedBy}.`,
    `Not public API: ${reliance.status}.`,
    'To do: re-check src/jobs/server.ts and src/jobs/queue-fetcher.ts against this BullMQ, and keep',
    "package.json's bullmq pinned to the exact version they were last checked against until this file passes.",
  ].join('\n');
}

/** relyOn runs a check of one reliance, and turns any failure into movedMessage. */
async function relyOn(reliance: Reliance, check: () => Promise<void> | void): Promise<void> {
  try {
    await check();
  } catch (err) {
    expect.fail(movedMessage(reliance, err instanceof Error ? err.message : String(err)));
  }
}

/** declaredParams counts a function's parameters, optional ones included (Function#length stops at the first default). */
function declaredParams(fn: Function): number {
  const source = fn.toString();
  let depth = 0;
  let count = 0;
  let sawText = false;
  for (let i = source.indexOf('(') + 1; i < source.length; i++) {
    const char = source[i]!;
    if (depth === 0 && char === ')') break;
    if ('([{'.includes(char)) depth++;
    else if (')]}'.includes(char)) depth--;
    else if (depth === 0 && char === ',') count++;
    if (!/\s/.test(char)) sawText = true;
  }
  return sawText ? count + 1 : 0;
}

/** assertMethod checks that `owner[name]` is a method that takes the `passed` arguments our code gives it. */
function assertMethod(owner: object | undefined, ownerName: string, name: string, passed: number): void {
  const fn = (owner as Record<string, unknown> | undefined)?.[name];
  if (typeof fn !== 'function') throw new Error(`${ownerName} has no method ${name}() any more.`);
  if (fn.length > passed) throw new Error(`${name}() now requires ${fn.length} arguments; we pass ${passed}.`);
  const declared = declaredParams(fn);
  if (declared < passed) throw new Error(`${name}() now takes ${declared} parameters; we pass ${passed}, and rely on the last.`);
}

const lockManager: Reliance = {
  member: 'Worker#lockManager',
  status: 'a protected property',
  usedBy: 'src/jobs/queue-fetcher.ts (startLockRenewal, holdLock, giveBack, called from src/jobs/server.ts)',
};
const lockManagerStart: Reliance = {
  member: 'LockManager#start()',
  status: 'reached only through the protected lockManager; Worker#run() starts it, and the JobServer never calls run()',
  usedBy: 'src/jobs/queue-fetcher.ts startLockRenewal, from JobServer.start() in src/jobs/server.ts',
};
const trackJob: Reliance = {
  member: 'LockManager#trackJob(jobId, token, ts)',
  status: 'reached only through the protected lockManager',
  usedBy: 'src/jobs/queue-fetcher.ts holdLock, which keeps the lock of a job a blocking fetch took before a slot was free (EmptyQueues #watch, src/jobs/empty-queues.ts)',
};
const untrackJob: Reliance = {
  member: 'LockManager#untrackJob(jobId)',
  status: 'reached only through the protected lockManager',
  usedBy: 'src/jobs/queue-fetcher.ts giveBack, which hands a held job back on shutdown (JobServer #giveBack)',
};
const lockRenewal: Reliance = {
  member: 'LockManager#start() with LockManager#trackJob(jobId, token, ts)',
  status: 'reached only through the protected lockManager',
  usedBy: 'src/jobs/queue-fetcher.ts startLockRenewal and holdLock: a held job keeps its lock until a slot runs it',
};
const processJob: Reliance = {
  member: 'Worker#processJob(job, token, fetchNextCallback)',
  status:
    'public in the .d.ts but undocumented: the manual-fetch guide calls job.moveToCompleted and moveToFailed instead. ' +
    'It reaches them through the protected handleCompleted, handleFailed and nextJobFromJobData',
  usedBy:
    'src/jobs/server.ts #process, which runs each job and chains to the queue\'s next one in the same round trip. ' +
    'It also relies on BullMQ calling fetchNextCallback just before it writes the result (and again if it writes it again): ' +
    'that is when the slot draws its next queue and, for another queue, sends that fetch beside the result',
};
const getNextJob: Reliance = {
  member: 'Worker#getNextJob(token, { block })',
  status:
    'documented, but its block option is not, nor that a blocking fetch waits only once a fetch found the queue empty ' +
    '(the private drained flag, _getNextJob and the protected moveToActive)',
  usedBy: 'src/jobs/server.ts #fetchFirst (block: false, one round trip) and src/jobs/empty-queues.ts #watch (block: true, one wait per empty queue)',
};
const workerId: Reliance = {
  member: 'Worker#id',
  status: 'public but undocumented',
  usedBy: 'src/jobs/queue-fetcher.ts newToken, which makes each lock token unique to its worker',
};
const moveToWait: Reliance = {
  member: 'Job#moveToWait(token)',
  status: 'in the .d.ts, not in the manual-fetch guide',
  usedBy: 'src/jobs/queue-fetcher.ts giveBack (JobServer #giveBack on shutdown)',
};

const bed = jobsTestbed('bullmq-internals');
const LOCK_DURATION_MS = 400;
const fetchers: QueueFetcher[] = [];
let nextToken = 0;

/**
 * openFetcher starts a QueueFetcher as the JobServer builds one, on a queue of
 * its own: a queue keeps BullMQ's wake-up marker of a job added earlier, and a
 * blocking fetch would return at once for it.
 */
async function openFetcher(name: QueueName): Promise<{ fetcher: QueueFetcher; queue: Queue; newToken: () => string }> {
  const fetcher = new QueueFetcher(
    name,
    async (job) => {
      if (job.data.fail) throw new Error('this job fails on purpose');
    },
    { connection: bed.connection, prefix: queuePrefix(bed.prefix, name, bed.connection), autorun: false, lockDuration: LOCK_DURATION_MS },
  );
  fetcher.on('error', () => {});
  fetchers.push(fetcher);
  await fetcher.waitUntilReady();
  return { fetcher, queue: bed.client.queue(name), newToken: () => `${fetcher.id}:${nextToken++}` };
}

let fetcher: QueueFetcher;
beforeAll(async () => {
  ({ fetcher } = await openFetcher('default'));
});
afterAll(async () => {
  await Promise.all(fetchers.map((opened) => opened.close(true)));
  await bed.cleanup();
});

describe('bullmq version', () => {
  it('is pinned exactly in package.json, and that version is the one installed', () => {
    const pinned: string = projectPackage.dependencies.bullmq;
    if (!semver.valid(pinned)) {
      expect.fail(
        `package.json has "bullmq": "${pinned}", but it must pin one exact version (as "${installed}", no ^ or ~): ` +
          'src/jobs/server.ts relies on BullMQ internals (checked in this file) that any release may move. Upgrade on purpose, once this file passes.',
      );
    }
    expect(installed, `node_modules holds bullmq ${installed}, but package.json pins ${pinned}: run npm install`).toBe(pinned);
  });
});

describe('the BullMQ members the JobServer uses outside the public API', () => {
  const lockManagerOf = () => (fetcher as unknown as { lockManager?: object }).lockManager;

  it(lockManager.member, () =>
    relyOn(lockManager, () => {
      if (typeof lockManagerOf() !== 'object') throw new Error('a Worker no longer has a lockManager object.');
    }));
  it(lockManagerStart.member, () => relyOn(lockManagerStart, () => assertMethod(lockManagerOf(), 'lockManager', 'start', 0)));
  it(trackJob.member, () => relyOn(trackJob, () => assertMethod(lockManagerOf(), 'lockManager', 'trackJob', 3)));
  it(untrackJob.member, () => relyOn(untrackJob, () => assertMethod(lockManagerOf(), 'lockManager', 'untrackJob', 1)));
  it(processJob.member, () => relyOn(processJob, () => assertMethod(Worker.prototype, 'Worker.prototype', 'processJob', 3)));
  it(getNextJob.member, () => relyOn(getNextJob, () => assertMethod(Worker.prototype, 'Worker.prototype', 'getNextJob', 2)));
  it(moveToWait.member, () => relyOn(moveToWait, () => assertMethod(Job.prototype, 'Job.prototype', 'moveToWait', 1)));
  it(workerId.member, () =>
    relyOn(workerId, () => {
      if (typeof fetcher.id !== 'string' || fetcher.id === '') throw new Error(`a Worker's id is ${JSON.stringify(fetcher.id)}, not a string of its own.`);
    }));
});

describe('what the JobServer relies on those members to do', () => {
  it('processJob records each result and, when its callback says so, returns the next job under the same token', () =>
    relyOn(processJob, async () => {
      const { fetcher, queue, newToken } = await openFetcher('critical');
      await queue.addBulk([
        { name: 'passes', data: {} },
        { name: 'fails', data: { fail: true } },
        { name: 'passes, last', data: {} },
        { name: 'left waiting', data: {} },
      ]);
      const token = newToken();
      const first = await fetcher.getNextJob(token, { block: false });
      expect(first?.name, 'getNextJob returned').toBe('passes');

      const fetchNext = vi.fn(() => true);
      const second = await fetcher.processJob(first!, token, fetchNext);
      expect(fetchNext, 'processJob did not ask its callback whether to fetch the next job').toHaveBeenCalled();
      expect(await first!.getState(), 'a job processJob ran').toBe('completed');
      expect(second?.name, 'after a job that passed, processJob returned').toBe('fails');
      expect(second?.token, "the next job's lock token").toBe(token);

      const third = await fetcher.processJob(second as Job, token, () => true);
      expect(await (second as Job).getState(), 'a job that failed its only attempt').toBe('failed');
      expect(third?.name, 'after a job that failed, processJob returned').toBe('passes, last');

      const none = await fetcher.processJob(third as Job, token, () => false);
      expect(none, 'processJob fetched the next job although its callback said no').toBeUndefined();
      expect(await queue.getWaitingCount(), 'jobs left waiting').toBe(1);
    }));

  it('getNextJob with block: false answers at once on an empty queue; with block: true it then waits for the next job', () =>
    relyOn(getNextJob, async () => {
      const { fetcher, queue, newToken } = await openFetcher('low');
      expect(await fetcher.getNextJob(newToken(), { block: false }), 'a fetch from an empty queue').toBeUndefined();
      // Now BullMQ knows the queue is empty: a blocking fetch would wait up to 5 s.
      const started = Date.now();
      expect(await fetcher.getNextJob(newToken(), { block: false }), 'a second fetch from an empty queue').toBeUndefined();
      expect(Date.now() - started, 'ms that getNextJob(token, { block: false }) took on an empty queue').toBeLessThan(1_000);

      const token = newToken();
      const waiting = fetcher.getNextJob(token, { block: true });
      await sleep(300);
      await queue.add('arrives later', {});
      const job = await waiting;
      expect(job?.name, 'a blocking fetch returned').toBe('arrives later');
      await fetcher.giveBack(job!, token);
    }));

  it('holdLock keeps a fetched job locked past its lock duration, and giveBack returns it to its queue', () =>
    relyOn(lockRenewal, async () => {
      const { fetcher, queue, newToken } = await openFetcher('default');
      fetcher.startLockRenewal();
      await queue.add('held', {});
      const token = newToken();
      const job = (await fetcher.getNextJob(token, { block: false }))!;
      fetcher.holdLock(job, token);
      await sleep(LOCK_DURATION_MS * 3);
      // moveToWait checks the lock: it throws "Missing lock" if renewal let it expire.
      await fetcher.giveBack(job, token);
      expect(await job.getState(), 'a job given back').toBe('waiting');
      const tracked = (fetcher as unknown as { lockManager: { getTrackedJobIds(): string[] } }).lockManager.getTrackedJobIds();
      expect(tracked, 'jobs the lock manager still renews after giveBack').not.toContain(job.id);
    }));
});
