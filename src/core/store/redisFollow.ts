/**
 * Follows the keys other replicas write to an announcing Redis store (see `announce` in redis.ts),
 * so each replica's in-memory index learns of an entry within a poll interval of its write.
 * Non-blocking XREAD on a timer: no command ever waits past the connection's budget, and an
 * outage only delays the feed (the ids are Redis's clock, so a restarted Redis continues after them).
 */
import type { RedisStore } from './redis';

export interface StoreFollower {
  /** Stream id of the last key handed on (for logs and tests). */
  position(): string;
  close(): Promise<void>;
}

const BATCH = 500;

/** The id of the newest entry of `store`'s stream, or "0-0": where a follower opened now starts. */
export async function streamTail(store: RedisStore): Promise<string> {
  const newest = await store.shared.run('XREVRANGE', (client) => client.xRevRange(store.streamKey, '+', '-', { COUNT: 1 }), []);
  return newest?.[0] ? String(newest[0].id) : '0-0';
}

/**
 * Calls `onKey` for every key written to `store` after stream id `from`, in order, every `everyMs`.
 *
 * @example
 * const from = await streamTail(store);          // before the rescan, so nothing falls in between
 * await rescan();
 * const follower = followStore(store, from, (key) => adopt(key), { everyMs: 200 });
 */
export function followStore(store: RedisStore, from: string, onKey: (key: string) => Promise<void>, options: { everyMs: number }): StoreFollower {
  let last = from;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function poll(): Promise<void> {
    for (;;) {
      const reply = await store.shared.run('XREAD', (client) => client.xRead({ key: store.streamKey, id: last }, { COUNT: BATCH }), null);
      const messages = reply?.[0]?.messages ?? [];
      for (const { id, message } of messages) {
        if (closed) return;
        last = String(id);
        const key = (message as Record<string, unknown>).key;
        if (key !== undefined) await onKey(String(key)).catch(() => undefined);
      }
      if (messages.length < BATCH) return;
    }
  }

  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => {
      running = poll()
        .catch(() => undefined)
        .finally(schedule);
    }, options.everyMs);
    timer.unref();
  };
  schedule();

  return {
    position: () => last,
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
