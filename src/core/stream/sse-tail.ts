/**
 * Whether the SSE bytes relayed so far end at an event boundary (a blank line). A frame the proxy
 * adds after a partial event (an upstream that broke off mid-line, or ended without its last blank
 * line) is read by the client as the rest of that event: one event whose data is no JSON, which
 * the SDKs throw as a SyntaxError instead of the API error the frame carries.
 */

const CR = 13;
const LF = 10;
const EMPTY = new Uint8Array(0);

/**
 * Keeps the last bytes of a relayed stream (a reference to the last chunk, copied only when chunks
 * are tiny), enough to tell whether it ends in two line terminators.
 *
 * @example const tail = new SseTail(); tail.push(chunk); if (tail.atBoundary()) body.push(frame);
 */
export class SseTail {
  /** The stream's last bytes: at least the last 3 once that many came (2 terminators + 1 byte). */
  private tail: Uint8Array = EMPTY;
  /** Whether `tail` holds everything the stream sent. */
  private whole = true;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (chunk.length >= 4) {
      this.tail = chunk;
      this.whole = false;
      return;
    }
    const joined = new Uint8Array(this.tail.length + chunk.length);
    joined.set(this.tail);
    joined.set(chunk, this.tail.length);
    if (joined.length > 4) this.whole = false;
    this.tail = joined.length > 4 ? joined.subarray(joined.length - 4) : joined;
  }

  /** True when nothing was sent, or the last line sent was blank: a new event starts next. */
  atBoundary(): boolean {
    const bytes = this.tail;
    let end = bytes.length;
    if (end === 0) return this.whole;
    // The last line's terminator: CRLF, LF or CR.
    if (bytes[end - 1] === LF) end -= end >= 2 && bytes[end - 2] === CR ? 2 : 1;
    else if (bytes[end - 1] === CR) end -= 1;
    else return false;
    // The line it ends is blank when it starts the stream or follows another terminator.
    if (end === 0) return this.whole;
    return bytes[end - 1] === LF || bytes[end - 1] === CR;
  }
}
