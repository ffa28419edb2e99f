// SpareJobs on its own: at most one spare per queue, claimed here or on its
// way, and handed back when shutdown takes the reservations.
import { describe, expect, it, vi } from 'vitest';
import type { Job } from 'bullmq';
import type { QueueName } from '../../src/jobs/defaults.ts';
import type { Fetched, QueueFetcher } from '../../src/jobs/queue-fetcher.ts';
import { SpareJobs } from '../../src/jobs/spare-jobs.ts';

/** A fetched job of `queue` whose fetcher records the locks it is asked to hold. */
function fetched(queue: QueueName, id: string): Fetched & { held: ReturnType<typeof vi.fn> } {
  const held = vi.fn();
  const fetcher = { name: queue, holdLock: held } as unknown as QueueFetcher;
  return { job: { id } as Job, token: `t-${id}`, fetcher, held };
}

describe('SpareJobs', () => {
  it('keeps an arrived spare, with its lock held, for the slot that takes it', () => {
    const spares = new SpareJobs();
    const coming = spares.reserve('low');
    expect(spares.has('low')).toBe(true);
    expect(spares.count).toBe(0); // on its way, it is counted by the slot that reserved it
    const job = fetched('low', '7');
    expect(spares.arrived(coming, job)).toBe(true);
    expect(job.held).toHaveBeenCalledWith(job.job, 't-7');
    expect(spares.count).toBe(1);
    expect(spares.take('low')).toBe(job);
    expect(spares.has('low')).toBe(false);
    expect(spares.take('low')).toBeUndefined();
  });

  it('refuses a second spare of the same queue', () => {
    const spares = new SpareJobs();
    spares.reserve('default');
    expect(() => spares.reserve('default')).toThrow(/already/);
  });

  it('hands a spare claimed on its way to the slot that claimed it', async () => {
    const spares = new SpareJobs();
    const coming = spares.reserve('critical');
    // take leaves a spare still coming; claim waits for it.
    expect(spares.take('critical')).toBeUndefined();
    const claim = spares.claim('critical');
    expect(claim).toBeInstanceOf(Promise);
    // Claimed: no other slot can take it, and the queue may get a new spare.
    expect(spares.has('critical')).toBe(false);
    const job = fetched('critical', '9');
    expect(spares.arrived(coming, job)).toBe(true);
    await expect(claim).resolves.toBe(job);
    expect(spares.count).toBe(0);
  });

  it('tells a claimer when the result brought no job', async () => {
    const spares = new SpareJobs();
    const coming = spares.reserve('critical');
    const claim = spares.claim('critical');
    spares.arrived(coming, undefined);
    await expect(claim).resolves.toBeUndefined();
  });

  it('ends a reservation once, whatever arrives after', () => {
    const spares = new SpareJobs();
    const coming = spares.reserve('low');
    spares.arrived(coming, undefined);
    expect(spares.has('low')).toBe(false);
    expect(spares.arrived(coming, fetched('low', '1'))).toBe(true);
    expect(spares.has('low')).toBe(false);
  });

  it('on shutdown, gives up the spares here and has those still coming handed back', () => {
    const spares = new SpareJobs();
    const here = fetched('default', '1');
    spares.arrived(spares.reserve('default'), here);
    const coming = spares.reserve('low');
    expect(spares.takeAll()).toEqual([here]);
    expect(spares.has('default')).toBe(false);
    // The spare that arrives after shutdown took its reservation is nobody's: the caller hands it back.
    expect(spares.arrived(coming, fetched('low', '2'))).toBe(false);
  });
});
