import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { services, uniquePrefix } from './services/services.ts';

/**
 * freshAppEnv is the environment of an app of its own for the real processes
 * (api, worker): the test services' Redis and mail, a queue prefix, and a
 * new folder for its database and uploads. `label` names both; `extra` adds
 * or overrides variables.
 */
export function freshAppEnv(label: string, extra: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  return {
    REDIS_URL: services().redisUrl,
    SMTP_URL: services().smtpUrl,
    QUEUE_PREFIX: uniquePrefix(label),
    DATABASE_PATH: join(dir, 'app.db'),
    UPLOADS_DIR: join(dir, 'uploads'),
    ...extra,
  };
}
