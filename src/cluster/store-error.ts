/** A shared store could not be reached or refused an operation (the caller retries later). */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** Runs `fn` with a signal that aborts after `ms` (default 5 s): a store that hangs is a store that is down. */
export async function withTimeout<T>(
  ms: number | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  return fn(AbortSignal.timeout(ms ?? 5_000));
}
