/* merge: RFC 7396 JSON merge patch.  Pure: returns a new value and never
 * mutates its inputs; members the patch does not touch keep their identity
 * (structural sharing), so views can skip unchanged expiries cheaply. */
import type { Json, JsonObject } from './types';

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/* target merged with patch, as RFC 7396 MergePatch(Target, Patch). */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch; /* arrays and scalars replace whole */
  const base: JsonObject = isObject(target) ? target : {};
  let out: JsonObject | null = null;
  for (const key of Object.keys(patch)) {
    const pv = patch[key] as Json;
    if (pv === null) {
      if (Object.prototype.hasOwnProperty.call(base, key)) {
        if (!out) out = { ...base };
        delete out[key];
      }
      continue;
    }
    const cur = Object.prototype.hasOwnProperty.call(base, key) ? base[key] : undefined;
    const nv = mergePatch(cur, pv);
    if (nv !== cur) {
      if (!out) out = { ...base };
      out[key] = nv;
    }
  }
  if (out) return out;
  /* nothing changed: keep the target (or a fresh {} when it was not an object) */
  return isObject(target) ? target : {};
}
