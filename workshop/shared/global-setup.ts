import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pathToFileURL } from 'node:url';
import type { TestProject } from 'vitest/node';
import { TEST_HARNESS_SETUP } from '../course.ts';
import type { Services } from './services.ts';

/**
 * The course's global setup. `npm run exercise` hands over the Redis and mail
 * catcher it found or started (COURSE_SERVICES, JSON); without that, as in
 * `course:check`, the test harness starts its own.
 *
 * The learner's Redis is theirs: every key the check makes starts with a
 * prefix of this run's own, and the keys are deleted when the run ends.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const given = process.env.COURSE_SERVICES;
  if (!given) {
    // Loaded only here: the harness brings MailDev and testcontainers, which a check with given services never needs.
    const { default: harnessSetup } = (await import(pathToFileURL(TEST_HARNESS_SETUP).href)) as { default: (project: TestProject) => Promise<() => Promise<void>> };
    return harnessSetup(project);
  }
  const services = JSON.parse(given) as Services;
  project.provide('services', services);
  // Read by uniquePrefix() (test/support/services/services.ts), in this process and the test workers.
  const root = `course-${randomBytes(4).toString('hex')}`;
  process.env.TEST_PREFIX_ROOT = root;
  return () => deleteKeys(services.redisUrl, `${root}-*`);
}

async function deleteKeys(redisUrl: string, pattern: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis went away with the session: nothing is left to clean.
  } finally {
    redis.disconnect();
  }
}
