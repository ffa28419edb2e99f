import type { TestProject } from 'vitest/node';
import harnessSetup from '../../test/harness/global-setup.ts';

/**
 * The course's global setup. `npm run exercise` hands over the Redis and mail
 * catcher it found or started (COURSE_SERVICES, JSON); without that, as in
 * `course:check`, the test harness starts its own.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const given = process.env.COURSE_SERVICES;
  if (!given) return harnessSetup(project);
  project.provide('services', JSON.parse(given));
}
