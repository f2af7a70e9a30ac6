/* RFC 7396 merge patch: the examples of the RFC's appendix A, purity and
 * structural sharing. */
import { describe, expect, it } from 'vitest';
import { mergePatch } from './merge';
import type { Json } from './types';

const rfc: [Json, Json, Json][] = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [['a', 'b'], ['c', 'd'], ['c', 'd']],
  [{ a: 'b' }, ['c'], ['c']],
  [{ a: 'foo' }, null, null],
  [{ a: 'foo' }, 'bar', 'bar'],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe('mergePatch', () => {
  rfc.forEach(([t, p, r], i) => {
    it(`matches RFC 7396 appendix A example ${i + 1}`, () => {
      expect(mergePatch(t, p)).toEqual(r);
    });
  });

  it('never mutates the target or the patch', () => {
    const t = { a: { b: 1, c: [1, 2] }, d: 2 };
    const p = { a: { b: null, c: [3] }, e: 5 };
    const ts = JSON.stringify(t);
    const ps = JSON.stringify(p);
    mergePatch(t, p);
    expect(JSON.stringify(t)).toBe(ts);
    expect(JSON.stringify(p)).toBe(ps);
  });

  it('keeps untouched members by identity', () => {
    const x = { svi: { a: 1 } };
    const y = { svi: { a: 2 } };
    const t = { expiries: { X: x, Y: y } };
    const out = mergePatch(t, { expiries: { Y: { svi: { a: 3 } } } }) as typeof t;
    expect(out.expiries.X).toBe(x);
    expect(out.expiries.Y).not.toBe(y);
    expect(out.expiries.Y.svi.a).toBe(3);
  });

  it('returns the target itself for an empty patch or one that deletes nothing', () => {
    const t = { a: 1 };
    expect(mergePatch(t, {})).toBe(t);
    expect(mergePatch(t, { b: null })).toBe(t);
  });
});
