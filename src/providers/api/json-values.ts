/**
 * JSON helpers for the API provider: a canonical serialisation (what the ETag hashes, so that key
 * order in a client's body cannot change it) and RFC 7396 JSON merge patch (what PATCH applies).
 */

export type JsonObject = { [key: string]: unknown };

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `obj[key] = value` as an own data property even for `__proto__`: JSON.parse makes such keys
 * own properties, and plain assignment would instead change the object's prototype.
 */
export function setOwn(obj: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const k of Object.keys(value).sort()) setOwn(out, k, sortKeys(value[k]));
  return out;
}

/**
 * RFC 7396 §2: a patch that is not an object replaces the target; `null` members remove keys;
 * object members merge recursively. Arrays are replaced whole, never merged.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch;
  const out: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, mergePatch(Object.hasOwn(out, k) ? out[k] : undefined, v));
  }
  return out;
}
