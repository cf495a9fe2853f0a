/** Pause between two polls of a cluster that is starting. */
export const pollIntervalMs = 100;

/** Calls `probe` until it returns a non-null value or `timeoutMs` passes (then null). */
export async function pollUntil<T>(timeoutMs: number, probe: () => Promise<T | null>): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== null) return value;
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
  return null;
}
