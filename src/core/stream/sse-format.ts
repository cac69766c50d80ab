/**
 * Writes SSE frames the way OpenAI (data-only) and Anthropic (named events) send them.
 */

/** `data: {json}` followed by the blank line that ends the event. */
export function dataFrame(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** `event: name` + `data: {json}`: Anthropic's framing, whose SDK ignores events without a name. */
export function namedFrame(event: string, payload: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** OpenAI's end-of-stream marker. */
export const DONE_FRAME = 'data: [DONE]\n\n';
