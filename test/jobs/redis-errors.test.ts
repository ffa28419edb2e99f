import { describe, expect, it } from 'vitest';
import { describeRedisError, RedisErrorLog, redisAddress } from '../../src/jobs/redis-errors.ts';
import { captureLog } from '../support/course/log.ts';

const WHERE = 'redis://:***@cache:6379';

/** Errors as ioredis gives them. */
function wrongPassword() {
  return Object.assign(new Error('WRONGPASS invalid username-password pair or user is disabled.'), {
    command: { name: 'hello', args: ['3', 'AUTH', 'default', 'wr0ng-Pw'] },
  });
}
function refused() {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
}

/** A RedisErrorLog on a clock the test moves, and the lines it wrote. */
function errorLog() {
  const capture = captureLog();
  let now = 0;
  const log = new RedisErrorLog(capture.logger, { where: WHERE, label: 'queue error', now: () => now });
  const lines = () => capture.lines().map((line) => JSON.parse(line) as Record<string, unknown> & { msg: string });
  return { log, lines, tick: (ms: number) => (now += ms) };
}

describe('describeRedisError', () => {
  it('names a refused login, with the address and not the command that carries the password', () => {
    expect(describeRedisError(wrongPassword(), WHERE)).toEqual({
      kind: 'login refused',
      message: `Redis refused the login (WRONGPASS): check the password in REDIS_URL (${WHERE})`,
      known: true,
    });
    expect(describeRedisError(new Error('NOAUTH Authentication required.'), WHERE).message).toMatch(/^Redis refused the login \(NOAUTH\)/);
  });

  it('names a Redis that cannot be reached', () => {
    expect(describeRedisError(refused(), 'redis://cache:6379').message).toBe('Redis cannot be reached at redis://cache:6379 (ECONNREFUSED): is it running?');
  });

  it('keeps any other error as it is, under the label', () => {
    expect(describeRedisError(new Error('Connection is closed.'), WHERE, 'queue error')).toEqual({
      kind: 'Connection is closed.',
      message: 'queue error: Connection is closed.',
      known: false,
    });
  });
});

describe('RedisErrorLog', () => {
  it('logs the first error of a kind, then one reminder every 30 s with how many came between', () => {
    const { log, lines, tick } = errorLog();
    for (let second = 0; second < 65; second++) {
      // Six connections fail on every reconnect, about once a second.
      for (let connection = 0; connection < 6; connection++) log.error(wrongPassword(), { queue: 'default' });
      tick(1_000);
    }
    const refusal = `Redis refused the login (WRONGPASS): check the password in REDIS_URL (${WHERE})`;
    expect(lines().map((line) => line.msg)).toEqual([
      refusal,
      `${refusal}. Still failing: 180 more errors in the last 30 s`,
      `${refusal}. Still failing: 180 more errors in the last 30 s`,
    ]);
    // The password travels in the error's command: a known kind's line leaves the error out.
    expect(lines()[0]).not.toHaveProperty('err');
    expect(JSON.stringify(lines())).not.toContain('wr0ng-Pw');
  });

  it('logs each kind once, and one line when Redis is back; the next outage is new', () => {
    const { log, lines, tick } = errorLog();
    log.reachable(); // the first connect: nothing to say
    log.error(refused());
    log.error(refused());
    log.error(new Error('Connection is closed.'), { queue: 'low' });
    tick(5_000);
    log.reachable();
    log.reachable(); // every connection says it is ready; once is enough
    log.error(refused());

    expect(lines().map((line) => line.msg)).toEqual([
      `Redis cannot be reached at ${WHERE} (ECONNREFUSED): is it running?`,
      'queue error: Connection is closed.',
      `Redis is reachable again at ${WHERE}`,
      `Redis cannot be reached at ${WHERE} (ECONNREFUSED): is it running?`,
    ]);
    // An unknown error keeps its context and details.
    expect(lines()[1]).toMatchObject({ queue: 'low', err: { message: 'Connection is closed.' } });
  });
});

describe('redisAddress', () => {
  it('prints the URL of connection options without its password', () => {
    expect(redisAddress({ url: 'redis://:s3cret@cache:6379' })).toBe('redis://:***@cache:6379');
    expect(redisAddress({ host: 'cache', port: 6379 })).toBeUndefined();
  });
});
