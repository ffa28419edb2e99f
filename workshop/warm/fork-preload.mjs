// Loaded with --import into a Vitest fork that starts ahead of the next check
// (./forks.ts): the packages the suites import, so that the check finds them
// loaded. JavaScript, not TypeScript: Vitest's forks run plain Node, without tsx.
import { readFileSync } from 'node:fs';

const { packages } = JSON.parse(readFileSync(new URL('./packages.json', import.meta.url), 'utf8'));
// A package that fails to load here fails again, with its real error, where a suite imports it.
await Promise.all(packages.map((name) => import(name).catch(() => undefined)));
