/** Time, injected so that state machines can be tested without sleeping. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Milliseconds since the epoch, for logs. */
  wallNow(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
};
