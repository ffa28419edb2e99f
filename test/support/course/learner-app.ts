import type { Db } from '../../../src/db/database.ts';
import { freePort } from '../../../src/dev/free-port.ts';
import type { ChildScript } from '../child-script.ts';
import { services } from '../services/services.ts';
import { freshAppEnv } from '../app-env.ts';
import { prepareDatabase } from '../database.ts';
import { startProcess } from './exercise.ts';

/** LearnerApp is the learner's API and worker, running as processes on a database of their own. */
export interface LearnerApp {
  api: ChildScript;
  worker: ChildScript;
  baseUrl: string;
  /** The app's database, open in this process too, to read what the API wrote. */
  db: Db;
  /** The processes' environment, for more processes of the same app. */
  env: Record<string, string>;
}

/**
 * startLearnerApp starts the learner's API and worker (their files laid over
 * src/) on a fresh database and queue prefix, and resolves once both are up.
 * `label` names the temporary folder and the prefix.
 */
export async function startLearnerApp(label: string, redisUrl = services().redisUrl): Promise<LearnerApp> {
  const port = await freePort();
  const env = freshAppEnv(`${label}-e2e`, { PORT: String(port), REDIS_URL: redisUrl });
  const db = prepareDatabase(env.DATABASE_PATH!);
  const api = startProcess('api', env);
  const worker = startProcess('worker', env);
  return { api, worker, baseUrl: `http://127.0.0.1:${port}`, db, env };
}

/** untilUp resolves once the app's API listens and its worker has started. */
export async function untilUp(api: ChildScript, worker: ChildScript): Promise<void> {
  await Promise.all([api.waitForOutput(/API listening/, 45_000), worker.waitForOutput(/worker started/, 45_000)]);
}
