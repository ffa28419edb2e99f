import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The Docker suite, `npm run test:docker`: the harness and npm start against
 * a real Docker engine, with and without the images they need. Its files end
 * in .docker.ts so that `npm test` leaves them out: they need an engine, and
 * .ci/run starts one and builds the images first (.ci/images/build.sh).
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/docker/**/*.docker.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One at a time: they share the engine, and each npm start runs the whole app.
    maxWorkers: 1,
  },
});
