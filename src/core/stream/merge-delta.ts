/**
 * Folds streamed JSON deltas into a snapshot the way OpenAI-style streams mean them: strings
 * concatenate, arrays append, objects merge, and identity fields are set once.
 */
import type { JsonObject, JsonValue } from '../request';

/** Fields that name something rather than carry text: repeated values must not be concatenated. */
const IDENTITY_FIELDS = new Set(['role', 'id', 'type', 'name', 'index']);

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Merges `delta` into `target` in place.
 *
 * @example
 * const m = { content: 'Hel' }; mergeDelta(m, { content: 'lo' }); // m.content === 'Hello'
 */
export function mergeDelta(target: JsonObject, delta: JsonObject): void {
  for (const [key, value] of Object.entries(delta)) {
    if (value === null || value === undefined) {
      if (!(key in target)) target[key] = null;
      continue;
    }
    const current = target[key];
    if (typeof value === 'string') {
      if (IDENTITY_FIELDS.has(key)) {
        if (typeof current !== 'string' || current === '') target[key] = value;
      } else {
        target[key] = typeof current === 'string' ? current + value : value;
      }
    } else if (Array.isArray(value)) {
      target[key] = Array.isArray(current) ? [...current, ...value] : [...value];
    } else if (isObject(value)) {
      if (!isObject(current)) target[key] = {};
      mergeDelta(target[key] as JsonObject, value);
    } else {
      target[key] = value;
    }
  }
}
