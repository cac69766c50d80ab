/**
 * An incremental Server-Sent Events parser: feed it bytes as they arrive, get whole events back.
 * Chunks may split anywhere (inside a line, inside a UTF-8 character, between CR and LF).
 */

/** One dispatched SSE event. `event` is undefined when the stream sent no `event:` line. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * Parses the `text/event-stream` format (WHATWG HTML §9.2) incrementally.
 *
 * @example
 * const parser = new SseParser();
 * for (const event of parser.push(chunk)) handle(event);
 * for (const event of parser.end()) handle(event);
 */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';
  private eventName: string | undefined;
  private dataLines: string[] = [];
  /** A chunk ended in CR: a LF at the start of the next chunk belongs to the same line break. */
  private skipLeadingLf = false;

  /** Parses the next chunk of bytes and returns the events it completed. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.skipLeadingLf && text.startsWith('\n')) text = text.slice(1);
    this.skipLeadingLf = false;
    return this.consume(text, false);
  }

  /** Flushes the end of the stream. A final event without its blank line is dropped, as the spec says. */
  end(): SseEvent[] {
    const rest = this.decoder.decode();
    return this.consume(rest, true);
  }

  private consume(text: string, final: boolean): SseEvent[] {
    const events: SseEvent[] = [];
    // `pending` holds no line break (it is what followed the last one), so only `text` is searched.
    // While chunks bring none, the line is appended to, never searched whole: reading a joined
    // string copies it into one piece, which made a line of megabytes arriving in many chunks (a
    // Responses event repeating a long answer) quadratic.
    if (!final && nextLineBreak(text, 0) === -1) {
      this.pending += text;
      return events;
    }
    const searched = this.pending.length;
    let buffer = this.pending + text;
    let start = 0;
    for (;;) {
      const lineEnd = nextLineBreak(buffer, Math.max(start, searched));
      if (lineEnd === -1) break;
      const line = buffer.slice(start, lineEnd);
      let next = lineEnd + 1;
      if (buffer.charCodeAt(lineEnd) === 13) {
        if (next < buffer.length) {
          if (buffer.charCodeAt(next) === 10) next++;
        } else {
          this.skipLeadingLf = true;
        }
      }
      start = next;
      const event = this.processLine(line);
      if (event) events.push(event);
    }
    buffer = buffer.slice(start);
    if (final && buffer.length > 0) {
      // An unterminated last line still counts as a line; its event is not dispatched (no blank line).
      this.processLine(buffer);
      buffer = '';
    }
    this.pending = buffer;
    return events;
  }

  private processLine(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.charCodeAt(0) === 58) return undefined; // ":" comment, used for keep-alive pings
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'event') this.eventName = value;
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const hadData = this.dataLines.length > 0;
    const event: SseEvent = { event: this.eventName, data: this.dataLines.join('\n') };
    this.eventName = undefined;
    this.dataLines = [];
    return hadData ? event : undefined;
  }
}

function nextLineBreak(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 10 || code === 13) return i;
  }
  return -1;
}
