import { describe, expect, it } from 'vitest';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../src/cmd/duration.ts';
import { MAX_OUTBOX_ID, MAX_PAYLOAD_CHARS, parseJobsArgs, UsageError } from '../../src/cmd/jobs-args.ts';
import {
  flatten,
  formatDeadJobs,
  formatJob,
  formatOutbox,
  formatOutboxCounts,
  formatStats,
  formatTime,
  oneLine,
  OUTBOX_TEXT_WIDTH,
  table,
} from '../../src/cmd/jobs-format.ts';
import type { DeadOutboxEntry } from '../../src/db/outbox.ts';
import type { JobDetails } from '../../src/jobs/inspector.ts';

/** usageError returns the UsageError that parsing argv throws. */
function usageError(argv: string[]): UsageError {
  try {
    parseJobsArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error(`${argv.join(' ')} parsed without an error`);
}

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['365d', MAX_DURATION_MS],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '10', '1.5h', '-1s', '1w', '2 h', '10M', '1h30m', '9999999s'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration: use a whole number and s, m, h or d/);
  });

  it('refuses zero and more than a year', () => {
    expect(() => parseDuration('0s')).toThrow('a duration must be more than 0');
    expect(() => parseDuration('366d')).toThrow('366d is too long: at most 365d');
    expect(() => parseDuration('9000h')).toThrow('too long');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [30_000, '30s'],
    [90_000, '1m 30s'],
    [3_600_000, '1h'],
    [3_660_000, '1h 1m'],
    [604_800_000, '7d'],
    [90_061_000, '1d 1h'],
    [-5_000, '0s'],
  ])('prints %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('parseJobsArgs', () => {
  it('runs stats when no command is given', () => {
    expect(parseJobsArgs([])).toEqual({ name: 'stats' });
    expect(parseJobsArgs(['stats'])).toEqual({ name: 'stats' });
  });

  it('reads help in three spellings', () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['dead', '--help']]) expect(parseJobsArgs(argv)).toEqual({ name: 'help' });
  });

  it('reads dead, show, requeue and schedules', () => {
    expect(parseJobsArgs(['dead'])).toEqual({ name: 'dead', queue: undefined });
    expect(parseJobsArgs(['dead', 'low'])).toEqual({ name: 'dead', queue: 'low' });
    expect(parseJobsArgs(['show', 'critical', '42'])).toEqual({ name: 'show', queue: 'critical', id: '42' });
    expect(parseJobsArgs(['requeue', 'default', 'repeat:abc:1'])).toEqual({ name: 'requeue', queue: 'default', id: 'repeat:abc:1' });
    expect(parseJobsArgs(['schedules'])).toEqual({ name: 'schedules' });
  });

  it('reads outbox and outbox requeue', () => {
    expect(parseJobsArgs(['outbox'])).toEqual({ name: 'outbox' });
    expect(parseJobsArgs(['outbox', 'requeue', '7'])).toEqual({ name: 'outbox-requeue', id: 7 });
    expect(parseJobsArgs(['outbox', 'requeue', String(MAX_OUTBOX_ID)])).toEqual({ name: 'outbox-requeue', id: MAX_OUTBOX_ID });
  });

  it('reads enqueue with its options, and checks the payload against the task schema', () => {
    expect(parseJobsArgs(['enqueue', 'resize_image', '{"upload":"a.png","width":200}', '--queue', 'low', '--in', '30s', '--max-retry', '3'])).toEqual({
      name: 'enqueue',
      task: 'resize_image',
      payload: { upload: 'a.png', width: 200 },
      queue: 'low',
      delayMs: 30_000,
      maxRetry: 3,
    });
    expect(parseJobsArgs(['enqueue', 'nightly_digest'])).toEqual({
      name: 'enqueue',
      task: 'nightly_digest',
      payload: {},
      queue: 'default',
      delayMs: 0,
      maxRetry: undefined,
    });
  });

  it('shows the usage for an unknown command only', () => {
    expect(usageError(['frobnicate'])).toMatchObject({ message: 'unknown command "frobnicate"', showUsage: true });
    expect(usageError(['dead', 'urgent']).showUsage).toBe(false);
  });

  it.each([
    [['dead', 'urgent'], 'unknown queue "urgent": use critical, default, low'],
    [['dead', 'low', 'extra'], 'too many arguments for dead (usage: npm run jobs -- dead [queue])'],
    [['stats', 'now'], 'too many arguments for stats'],
    [['show', 'default'], 'show needs more arguments (usage: npm run jobs -- show <queue> <id>)'],
    [['requeue'], 'requeue needs more arguments'],
    [['show', 'default', ''], '"" is not a job id'],
    [['show', 'default', 'x'.repeat(201)], 'is not a job id'],
    [['stats', '--queue', 'low'], '--queue only goes with enqueue'],
    [['dead', '--in', '5m'], '--in only goes with enqueue'],
    [['enqueue'], 'enqueue needs more arguments'],
    [['enqueue', 'launch_rockets'], 'unknown task "launch_rockets": use one of send_welcome,'],
    [['enqueue', 'send_welcome', '{"to":'], 'the payload is not valid JSON'],
    [['enqueue', 'send_welcome', '{"to":"x","name":"Ada"}'], 'bad payload for send_welcome: to: Invalid email address'],
    [['enqueue', 'resize_image', '{"upload":"a.png","width":99999}'], 'bad payload for resize_image: width:'],
    [['enqueue', 'nightly_digest', '{}', '--in', '1w'], '--in: "1w" is not a duration'],
    [['enqueue', 'nightly_digest', '{}', '--in', '400d'], '--in: 400d is too long: at most 365d'],
    [['enqueue', 'nightly_digest', '{}', '--max-retry', '101'], '--max-retry must be a whole number from 0 to 100, got "101"'],
    [['enqueue', 'nightly_digest', '{}', '--max-retry', '2.5'], '--max-retry must be a whole number'],
    [['enqueue', 'nightly_digest', '{}', '--queue', 'urgent'], 'unknown queue "urgent"'],
    [['stats', '--verbose'], "Unknown option '--verbose'"],
    [['outbox', 'purge'], 'unknown outbox command "purge": use outbox, or outbox requeue <id>'],
    [['outbox', 'requeue'], 'outbox requeue needs more arguments (usage: npm run jobs -- outbox requeue <id>)'],
    [['outbox', 'requeue', '7', '8'], 'too many arguments for outbox requeue'],
    [['outbox', 'requeue', '0'], '"0" is not an outbox row id: a whole number of 1 or more (npm run jobs -- outbox lists them)'],
    [['outbox', 'requeue', '-7'], "Unknown option '-7'"],
    [['outbox', 'requeue', '--', '-7'], '"-7" is not an outbox row id'],
    [['outbox', 'requeue', '07'], '"07" is not an outbox row id'],
    [['outbox', 'requeue', '7.5'], '"7.5" is not an outbox row id'],
    [['outbox', 'requeue', '1e3'], '"1e3" is not an outbox row id'],
    [['outbox', 'requeue', ' 7'], '" 7" is not an outbox row id'],
    [['outbox', 'requeue', 'seven'], '"seven" is not an outbox row id'],
    [['outbox', 'requeue', String(MAX_OUTBOX_ID + 1)], '"9007199254740992" is not an outbox row id'],
    [['outbox', 'requeue', '9'.repeat(50)], `"${'9'.repeat(40)}…" is not an outbox row id`],
    [['outbox', '--queue', 'low'], '--queue only goes with enqueue'],
  ])('refuses %j', (argv, reason) => {
    expect(usageError(argv).message).toContain(reason);
  });

  it('bounds the payload and cuts long input short in messages', () => {
    expect(usageError(['enqueue', 'nightly_digest', ' '.repeat(MAX_PAYLOAD_CHARS + 1)]).message).toBe('the payload is too long: at most 65536 characters');
    expect(usageError(['enqueue', 'x'.repeat(1_000)]).message).toContain(`"${'x'.repeat(40)}…"`);
  });
});

describe('the output', () => {
  it('lines up tables, numbers on the right', () => {
    expect(table(['name', 'n'], [['a', '1'], ['longer', '100']], [false, true])).toBe('name      n\na         1\nlonger  100');
  });

  it('prints the stats table', () => {
    const zero = { active: 0, pending: 0, scheduled: 0, dead: 0, completed: 0 };
    expect(formatStats({ critical: zero, default: { ...zero, pending: 12, dead: 3 }, low: zero })).toBe(
      [
        'queue     active  pending  scheduled  dead  completed',
        'critical       0        0          0     0          0',
        'default        0       12          0     3          0',
        'low            0        0          0     0          0',
      ].join('\n'),
    );
  });

  it('prints times in UTC to the second, and errors on one short line', () => {
    expect(formatTime(new Date('2026-11-28T02:00:00.123Z'))).toBe('2026-11-28 02:00:00 UTC');
    expect(formatTime(undefined)).toBe('-');
    expect(oneLine('first\nsecond')).toBe('first');
    expect(oneLine('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  it('says when there are no dead jobs', () => {
    expect(formatDeadJobs([])).toBe('no dead jobs');
    expect(formatDeadJobs([], 'low')).toBe('no dead jobs in low');
  });

  it('prints the outbox line of the overview, pointing at outbox only when rows are dead', () => {
    expect(formatOutboxCounts({ pending: 3, dead: 0 })).toBe('outbox: 3 pending, 0 dead');
    expect(formatOutboxCounts({ pending: 0, dead: 2 })).toBe('outbox: 0 pending, 2 dead (npm run jobs -- outbox lists them)');
  });

  it('prints the outbox: counts first, then each dead row, or that there are none', () => {
    expect(formatOutbox('data/app.db', { pending: 4, dead: 0 }, [])).toBe('outbox in data/app.db: 4 pending, 0 dead\nno dead outbox rows');

    const dead: DeadOutboxEntry = {
      id: 7,
      task: 'send_receipt',
      payload: { order_id: 'seven' },
      queue: 'default',
      runAt: 0,
      attempts: 2,
      error: 'bad payload for send_receipt:\norder_id: expected number',
      deadAt: Date.parse('2026-11-28T02:00:00Z'),
    };
    const long = { ...dead, id: 9, task: 'made\nup', error: '', payload: 'x'.repeat(1_000) };
    expect(formatOutbox('data/app.db', { pending: 0, dead: 5 }, [dead, long])).toBe(
      [
        'outbox in data/app.db: 0 pending, 5 dead',
        '',
        'dead row 7',
        '  task      send_receipt',
        '  queue     default',
        '  died at   2026-11-28 02:00:00 UTC',
        '  attempts  2',
        '  reason    bad payload for send_receipt: order_id: expected number',
        '  payload   {"order_id":"seven"}',
        '',
        'dead row 9',
        '  task      made up',
        '  queue     default',
        '  died at   2026-11-28 02:00:00 UTC',
        '  attempts  2',
        '  reason    (none recorded)',
        `  payload   "${'x'.repeat(OUTBOX_TEXT_WIDTH - 2)}…`,
        '',
        'the oldest 2 of 5 dead rows; once the cause is fixed, send one again with: npm run jobs -- outbox requeue <id>',
      ].join('\n'),
    );
  });

  it('flattens text to one line, cut without splitting a character', () => {
    expect(flatten('a\n  b\r\nc', 20)).toBe('a b c');
    expect(flatten('abcdef', 4)).toBe('abc…');
    expect(flatten('😀😀😀😀', 3)).toBe('😀😀…');
    expect(flatten('😀😀', 2)).toBe('😀😀');
  });

  it('prints a scheduled job with its due time, and a dead one with its error and stack', () => {
    const now = new Date('2026-11-28T02:00:00Z');
    const base: JobDetails = {
      id: '7',
      queue: 'default',
      task: 'send_receipt',
      state: 'scheduled',
      payload: { order_id: 7 },
      attemptsMade: 0,
      maxAttempts: 26,
      error: undefined,
      stacktrace: [],
      createdAt: now,
      dueAt: new Date(now.getTime() + 600_000),
      finishedAt: undefined,
    };
    expect(formatJob(base, now)).toBe(
      [
        'job 7 in queue default',
        'state     scheduled',
        'task      send_receipt',
        'attempts  0 made of 26 allowed',
        'created   2026-11-28 02:00:00 UTC',
        'due       2026-11-28 02:10:00 UTC (in 10m)',
        'payload',
        '  {',
        '    "order_id": 7',
        '  }',
      ].join('\n'),
    );

    const stack = ['Error: SMTP said no', ...Array.from({ length: 10 }, (_, i) => `    at frame${i}`)].join('\n');
    const dead = formatJob({ ...base, state: 'dead', attemptsMade: 26, dueAt: undefined, error: 'SMTP said no', stacktrace: ['old', stack], finishedAt: now }, now);
    expect(dead).toContain('failed at  2026-11-28 02:00:00 UTC\nerror      SMTP said no\n');
    expect(dead).toContain('stack (first 6 of 11 lines)\n  Error: SMTP said no\n      at frame0\n');
    expect(dead).not.toContain('frame5');
  });
});
