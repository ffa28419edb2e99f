import { describe, expect, it } from 'vitest';
import { useColour } from '../../src/colour.ts';

describe('useColour', () => {
  it.each([
    // [on a terminal, env, colour]
    [true, {}, true],
    [false, {}, false],
    [true, { NO_COLOR: '1' }, false],
    [true, { NO_COLOR: '' }, true], // empty is unset (no-color.org)
    [false, { FORCE_COLOR: '1' }, true],
    [false, { FORCE_COLOR: 'true' }, true],
    [false, { FORCE_COLOR: '' }, false], // empty is unset
    [true, { FORCE_COLOR: '0' }, false],
    [true, { FORCE_COLOR: 'false' }, false],
    [false, { FORCE_COLOR: '1', NO_COLOR: '1' }, true], // FORCE_COLOR wins
    [true, { FORCE_COLOR: '0', NO_COLOR: '' }, false],
  ] as const)('on a terminal: %s, with %j: %s', (isTTY, env, colour) => {
    expect(useColour(isTTY, env)).toBe(colour);
  });
});
