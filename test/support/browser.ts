import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Chromium or Chrome usually is, when CHROMIUM_PATH does not say. */
const KNOWN_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/**
 * findChromium returns the browser the page tests drive: CHROMIUM_PATH, or the
 * first known install. Without one it throws with the fix, so the browser
 * tests fail and say why instead of being skipped.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env, knownPaths = KNOWN_PATHS): string {
  const wanted = env.CHROMIUM_PATH;
  if (wanted) {
    if (!existsSync(wanted)) throw new Error(`CHROMIUM_PATH is ${wanted}, and there is no file there`);
    return wanted;
  }
  const found = knownPaths.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      'the browser tests need Chromium or Chrome, and none is installed. ' +
        'On Debian or Ubuntu: sudo apt-get install -y chromium. ' +
        `Elsewhere, set CHROMIUM_PATH to a Chrome or Chromium binary. Looked in: ${knownPaths.join(', ')}`,
    );
  }
  return found;
}

/** launchChromium starts a headless Chromium that reaches nothing but the pages a test opens. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [
      '--no-sandbox', // CI runs as root, where Chromium's sandbox cannot start
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
}
