/**
 * Collects what one thread sends another into one message per turn of the event loop. Each
 * message wakes the thread it goes to, so an item nobody waits for (`urgent` false) waits up to
 * `delayMs` for an urgent one to travel with.
 */
export class MessageBatcher<T> {
  private items: T[] = [];
  private posting: 'now' | NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (items: T[]) => void,
    private readonly delayMs: number,
  ) {}

  /** Queues `item`: sent at the end of this turn when urgent (or when an urgent one is), else after `delayMs`. */
  push(item: T, urgent: boolean): void {
    this.items.push(item);
    if (this.posting === 'now') return;
    if (!urgent) {
      this.posting ??= setTimeout(() => this.flush(), this.delayMs);
      return;
    }
    if (this.posting !== undefined) clearTimeout(this.posting);
    this.posting = 'now';
    setImmediate(() => this.flush());
  }

  /** Sends everything queued now (nothing when empty). */
  flush(): void {
    if (this.posting !== undefined && this.posting !== 'now') clearTimeout(this.posting);
    this.posting = undefined;
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.send(items);
  }
}
