import { describe, expect, it } from 'vitest';
import { findChromium } from '../support/browser.ts';

describe('finding the browser for the page tests', () => {
  it('fails with the fix when no browser is installed', () => {
    expect(() => findChromium({}, ['/nowhere/chromium'])).toThrow(/none is installed.*apt-get install -y chromium.*CHROMIUM_PATH/);
  });

  it('fails when CHROMIUM_PATH names a missing file', () => {
    expect(() => findChromium({ CHROMIUM_PATH: '/nowhere/chrome' })).toThrow('CHROMIUM_PATH is /nowhere/chrome, and there is no file there');
  });

  it('takes CHROMIUM_PATH first, then the first known install', () => {
    expect(findChromium({ CHROMIUM_PATH: process.execPath }, ['/nowhere/chromium'])).toBe(process.execPath);
    expect(findChromium({}, ['/nowhere/chromium', process.execPath])).toBe(process.execPath);
  });
});
