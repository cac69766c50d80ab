/**
 * The life of an upstream call that identical requests in flight share. It runs on its own signal,
 * not on the signal of the request that started it: that client going away must not cut off the
 * others. The call is cancelled once the leader and every follower have gone.
 */
import { ClientSignal, type RequestSignal } from './clientSignal';

/**
 * Counts who still wants the call's answer: the leader until its client goes away, each follower
 * until its client goes away or it stops waiting. When none is left, `signal` aborts.
 *
 * @example
 * const call = new SharedCall(req.signal); ctx.upstreamSignal = call.signal;
 * const release = call.join(follower.signal); … release();
 */
export class SharedCall {
  /** What the upstream call runs on. */
  readonly signal = new ClientSignal();
  private leaderHere = true;
  private followers = 0;

  constructor(leaderSignal: RequestSignal) {
    if (leaderSignal.aborted) this.leaderLeft(leaderSignal.reason);
    else leaderSignal.addEventListener('abort', () => this.leaderLeft(leaderSignal.reason), { once: true });
  }

  /**
   * A follower starts waiting on the call. Returns its release (idempotent: its client went away,
   * or it has what it needs), or undefined when the call was already cancelled.
   */
  join(followerSignal: RequestSignal): (() => void) | undefined {
    if (this.signal.aborted) return undefined;
    this.followers++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      followerSignal.removeEventListener('abort', release);
      this.followers--;
      this.cancelIfAbandoned(followerSignal.reason);
    };
    followerSignal.addEventListener('abort', release, { once: true });
    return release;
  }

  /** Whether a follower still wants the answer: the leader's client leaving must then not end the body. */
  get followed(): boolean {
    return this.followers > 0;
  }

  private leaderLeft(reason: unknown): void {
    this.leaderHere = false;
    this.cancelIfAbandoned(reason);
  }

  private cancelIfAbandoned(reason: unknown): void {
    if (!this.leaderHere && this.followers === 0) this.signal.abort(reason);
  }
}
