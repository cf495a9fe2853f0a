export type BackoffOptions = {
  /** The smallest delay, and the ceiling of the first attempt's window. */
  delayMinMs: number;
  /** The cap: no window grows past it. */
  delayMaxMs: number;
  /** Uniform in [0, 1). Injected so tests (and the simulator) are reproducible. */
  random: () => number;
};

/** Past this exponent the window is at the cap anyway; stopping here keeps the arithmetic finite. */
const exponentMax = 30;

/**
 * Exponential backoff with full jitter (the "Full Jitter" of the AWS architecture blog): attempt
 * `n` (0 for the first reconnect after a loss) waits a uniformly random time in
 * `[delayMinMs, min(delayMaxMs, delayMinMs * 2^n)]`. The whole window is random so that nodes
 * that lost the same peer at the same moment do not all knock again together; the floor keeps a
 * refused connection from turning into a busy loop.
 */
export function exponentialBackoff(options: BackoffOptions): (attempt: number) => number {
  const { delayMinMs, delayMaxMs, random } = options;
  return (attempt) => {
    const exponent = Math.min(Math.max(0, Math.floor(attempt)), exponentMax);
    const ceilingMs = Math.min(delayMaxMs, delayMinMs * 2 ** exponent);
    return delayMinMs + random() * (ceilingMs - delayMinMs);
  };
}
