/* The shared vectors: canonical text, checksum and merge patches must agree
 * byte for byte with the C encoder (web/src/protocol/vectors.json, written by
 * the gateway's generator) and with the hand-made sample. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canonicalText, checksum } from './checksum';
import { mergePatch } from './merge';
import type { Json, SurfaceDoc } from './types';

interface VectorFile {
  vectors: {
    name: string;
    id: string;
    states: { doc: SurfaceDoc; checksum: string; canonical: string }[];
    patches: { from: number; to: number; patch: Json }[];
  }[];
}

const here = dirname(fileURLToPath(import.meta.url));

function check(file: string): void {
  const vf = JSON.parse(readFileSync(file, 'utf8')) as VectorFile;
  it('holds at least one vector', () => {
    expect(vf.vectors.length).toBeGreaterThan(0);
  });
  for (const v of vf.vectors) {
    describe(v.name, () => {
      v.states.forEach((s, i) => {
        it(`state ${i}: canonical text and checksum match`, () => {
          expect(s.doc.id).toBe(v.id);
          expect(canonicalText(s.doc)).toBe(s.canonical);
          expect(checksum(s.doc)).toBe(s.checksum);
        });
      });
      v.patches.forEach((p) => {
        it(`patch ${p.from} -> ${p.to} gives the next state and its checksum`, () => {
          const from = v.states[p.from]!;
          const to = v.states[p.to]!;
          const merged = mergePatch(from.doc as unknown as Json, p.patch) as unknown as SurfaceDoc;
          expect(merged).toEqual(to.doc);
          expect(checksum(merged)).toBe(to.checksum);
        });
      });
    });
  }
}

describe('hand-made sample vectors', () => {
  check(join(here, '__fixtures__', 'sample-vectors.json'));
});

const shared = join(here, 'vectors.json');
describe('vectors from the C encoder (vectors.json)', () => {
  it('is present (gateway/protovec writes it; test protocol_vectors_up_to_date keeps it current)', () => {
    expect(existsSync(shared)).toBe(true);
  });
  check(shared);
});
