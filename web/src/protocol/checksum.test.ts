/* Checksum primitives: FNV-1a 32 reference values and the canonical text's
 * parameter rendering and ordering. */
import { describe, expect, it } from 'vitest';
import { canonicalText, checksum, fnv1a32, hex8, scaled } from './checksum';

const enc = new TextEncoder();

describe('fnv1a32', () => {
  it('gives the published reference values', () => {
    expect(hex8(fnv1a32(enc.encode('')))).toBe('811c9dc5');
    expect(hex8(fnv1a32(enc.encode('a')))).toBe('e40c292c');
    expect(hex8(fnv1a32(enc.encode('foobar')))).toBe('bf9cf968');
  });
});

describe('scaled', () => {
  it('writes round(x * 1e8) without sign for zero and with it for negatives', () => {
    expect(scaled(0)).toBe('0');
    expect(scaled(-0)).toBe('0');
    expect(scaled(0.00412345)).toBe('412345');
    expect(scaled(-0.21345678)).toBe('-21345678');
    expect(scaled(-0.00000001)).toBe('-1');
    expect(scaled(1.23456789)).toBe('123456789');
    expect(scaled(0.29)).toBe('29000000'); /* 0.29 * 1e8 = 28999999.999999996 */
  });
});

describe('canonicalText', () => {
  it('orders expiry codes by bytes, not by date, and writes - without svi', () => {
    const doc = {
      id: 's.X',
      venue: 's',
      asset: 'X',
      expiries: {
        '5JUN26': { expiry: 2, T: 1 },
        '27DEC26': { expiry: 3, T: 1, svi: { a: 0.1, b: 0.2, rho: -0.3, m: 0, sigma: 0.05 } },
        '10JAN26': { expiry: 1, T: 1 },
      },
    };
    expect(canonicalText(doc)).toBe(
      's.X\n10JAN26|-\n27DEC26|10000000|20000000|-30000000|0|5000000\n5JUN26|-\n',
    );
    expect(checksum(doc)).toMatch(/^[0-9a-f]{8}$/);
  });

  it('is the id line alone for a surface without expiries', () => {
    expect(canonicalText({ id: 'okx.ETH', venue: 'okx', asset: 'ETH' })).toBe('okx.ETH\n');
  });
});
