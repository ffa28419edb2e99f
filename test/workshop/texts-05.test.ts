// Exercise 05's README says what Redis holds once the lesson's cron table is
// registered: one next tick per entry, counted in `stats` as scheduled, with a
// job id made of the entry's id and the tick's time. This test registers the
// finished cron table (src/jobs/cron.ts) twice and holds those words to it.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { registerCron, Scheduler } from '../../src/jobs/cron.ts';
import { Inspector } from '../../src/jobs/inspector.ts';
import { jobsTestbed } from '../support/jobs.ts';

const README = readFileSync(new URL('../../exercises/05-cron-once/README.md', import.meta.url), 'utf8');

const bed = jobsTestbed('texts05');
afterAll(() => bed.cleanup());

describe("exercise 05's README, Run it yourself", () => {
  it('counts one scheduled job per entry, whose id is the entry and the tick in ms', async () => {
    const scheduler = new Scheduler(bed.client);
    await registerCron(scheduler);
    await registerCron(scheduler); // a second scheduler changes nothing

    const scheduled = (await new Inspector(bed.client).counts()).default.scheduled;
    expect(README, 'the README gives the `scheduled` count of the default queue').toMatch(/`scheduled` column of the `default` queue: 2, one job per\s+entry/);
    expect(scheduled).toBe(2);

    // "a job id like `repeat:cleanup_uploads:1796061600000`, the tick's time in ms"
    const [, example] = /job id like\s+`(repeat:cleanup_uploads:\d+)`, the tick's time in ms/.exec(README) ?? [];
    expect(example, 'the README gives an example of a tick\'s job id').toBeDefined();
    const entry = (await scheduler.list()).find((e) => e.task === 'cleanup_uploads')!;
    const tick = (await bed.client.queue('default').getDelayed()).find((job) => job.name === 'cleanup_uploads')!;
    expect(tick.id).toBe(`repeat:cleanup_uploads:${entry.next!.getTime()}`);
    expect(tick.id!.replace(/\d+$/, 'N')).toBe(example!.replace(/\d+$/, 'N'));
  });
});
