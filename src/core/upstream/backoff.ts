/**
 * How long to wait before retrying an upstream: exponential backoff with jitter, or the
 * provider's own Retry-After, never longer than the configured cap.
 */

/** First backoff step; doubles per attempt. */
const BASE_DELAY_MS = 500;

/**
 * Milliseconds the provider asked us to wait, from `retry-after-ms` (OpenAI) or `retry-after`
 * (seconds or an HTTP date); undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | undefined {
  const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);
  const ms = Number(first(headers['retry-after-ms']));
  if (first(headers['retry-after-ms']) !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const raw = first(headers['retry-after']);
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait before retry number `attempt + 1`. A Retry-After wins over the computed backoff; both are
 * capped by `maxBackoffMs`.
 *
 * @example backoffDelay(2, undefined, 20_000) // between 1000 and 2000
 */
export function backoffDelay(attempt: number, retryAfter: number | undefined, maxBackoffMs: number, random = Math.random): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, maxBackoffMs);
  const exponential = Math.min(maxBackoffMs, BASE_DELAY_MS * 2 ** attempt);
  // "Equal jitter": at least half the step, so retries from many clients spread without collapsing to 0.
  return exponential / 2 + (exponential / 2) * random();
}
