/**
 * The delay before retry number `retryNumber` (1 for the first retry): exponential from
 * `retryDelayMs`, capped at `retryDelayMaxMs`, with "equal jitter" (half fixed, half random) so
 * that clients retrying together spread out but none retries immediately.
 */
export function computeRetryDelayMs(options: {
  readonly retryNumber: number;
  readonly retryDelayMs: number;
  readonly retryDelayMaxMs: number;
  /** A number in [0, 1); injectable so tests are deterministic. */
  readonly random: () => number;
}): number {
  // 2^30 already exceeds any sane cap; bounding the exponent keeps the arithmetic finite.
  const exponent = Math.min(Math.max(options.retryNumber - 1, 0), 30);
  const ceilingMs = Math.min(options.retryDelayMaxMs, options.retryDelayMs * 2 ** exponent);
  const halfMs = ceilingMs / 2;
  return Math.round(halfMs + options.random() * halfMs);
}
