// `npm install` on the oldest Node.js the workshop promises warns about no
// package (EBADENGINE): every package in the lock file supports it.
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { expect, it } from 'vitest';

const root = (path: string) => JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'));

it("every installed package runs on the oldest Node.js in package.json's engines", () => {
  const promised = root('package.json').engines.node as string;
  const oldest = semver.minVersion(promised)!.version;
  const lock = root('package-lock.json') as { packages: Record<string, { version?: string; engines?: { node?: string } }> };
  const refusing = Object.entries(lock.packages)
    .filter(([, pkg]) => pkg.engines?.node && !semver.satisfies(oldest, pkg.engines.node))
    .map(([path, pkg]) => `${path.replace(/^.*node_modules\//, '')}@${pkg.version} wants node ${pkg.engines!.node}`);
  expect(refusing, `these would warn EBADENGINE on Node ${oldest} (pin an older version with npm overrides)`).toEqual([]);
});
