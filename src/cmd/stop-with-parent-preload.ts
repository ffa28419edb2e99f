// npm start (src/cmd/dev.ts) loads this with --import into the API, the worker
// and the scheduler, before their own code runs: each then stops when npm
// start is gone, even while it still waits for Redis at startup. Run on their
// own (`npm run worker`), they never load it.
import { stopWithParent } from './stop-with-parent.ts';

stopWithParent();
