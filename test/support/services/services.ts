import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { Services } from '../../../workshop/shared/services.ts';

export type { Services };

declare module 'vitest' {
  export interface ProvidedContext {
    services: Services;
  }
}

/** The services of this test run (provided by test/support/services/global-setup.ts). */
export function services(): Services {
  return inject('services');
}

/**
 * A BullMQ key prefix no other test file uses, so each file has its own
 * queues in the shared Redis: `t-<label>-<random>`. TEST_PREFIX_ROOT replaces
 * the `t`, so that a run can find and delete its own keys afterwards.
 */
export function uniquePrefix(label: string): string {
  const safe = label.replace(/[^A-Za-z0-9_-]+/g, '-');
  return `${process.env.TEST_PREFIX_ROOT || 't'}-${safe}-${randomBytes(4).toString('hex')}`;
}
