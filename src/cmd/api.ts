// The API process: `npm run api`. It enqueues jobs and never runs them.
import { serve } from '@hono/node-server';
import { wireApi } from '../api/wiring.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { onShutdown } from './shutdown.ts';

const config = loadConfig();
const log = createLogger('api');
const api = wireApi(config, log);

// Jobs written while the last API process was down, or Redis was, go out now.
api.relay.kick();

const server = serve({ fetch: api.app.fetch, port: config.port }, (info) => {
  log.info(`API listening on http://localhost:${info.port}`);
});

onShutdown(log, async () => {
  // Stop taking requests first, then flush what they wrote, then close the connections they used.
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await api.close();
});
