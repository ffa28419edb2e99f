/**
 * Vitest config for the course: one project per exercise, each resolving
 * modules with its exercise folder laid over src/ (see overlay/). The same
 * suite, test/exercises/NN-slug.test.ts, checks the learner's files or the
 * solution's: COURSE_TARGET picks the folder. COURSE_ONLY=3,4 keeps some.
 * PRESTART_FORKS_ENV=1 (the watch screen) starts each check's fork ahead of
 * time (warm/forks.ts).
 */
import { defineConfig } from 'vitest/config';
import { exerciseDir, PRESTART_FORKS_ENV, ROOT, SRC, targetFromEnv } from './course.ts';
import { EXERCISES } from './manifest.ts';
import { overlayPlugin } from './overlay/vite-plugin.ts';
import { PRESTARTED_FORKS, prestartedForks } from './warm/forks.ts';

const target = targetFromEnv();
const only = process.env.COURSE_ONLY?.split(',').map(Number);
const prestart = process.env[PRESTART_FORKS_ENV] === '1';

export default defineConfig({
  root: ROOT,
  test: {
    globalSetup: ['workshop/shared/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    projects: EXERCISES.filter((exercise) => !only || only.includes(exercise.number)).map((exercise) => {
      const dir = exerciseDir(exercise, target);
      return {
        plugins: [overlayPlugin({ dir, src: SRC })],
        test: {
          name: exercise.slug,
          root: ROOT,
          include: [`test/exercises/${exercise.slug}.test.ts`],
          provide: { course: { number: exercise.number, target, dir }, earlyStart: false },
          ...(prestart && { pool: PRESTARTED_FORKS, poolRunner: prestartedForks }),
          // A failed expectation shows the values in full, not cut at 40 characters.
          chaiConfig: { truncateThreshold: 0 },
          // An end-to-end check may start the learner's processes itself (afterEarlierChecks).
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      };
    }),
  },
});
