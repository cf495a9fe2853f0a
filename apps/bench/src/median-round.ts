/**
 * One system's rounds at one level, reduced to the row the report shows: the round with the
 * median writes/s (the lower of the two middle ones for an even count). A real round, not a
 * blend of figures from different rounds, so its p50, p99, CPU and the leader's internals
 * belong together; in a closed loop writes/s and latency move together, so the median round by
 * writes/s is also the one with about the median latency.
 */
export function medianRound<Run extends { result: { committedPerSecond: number } }>(rounds: readonly Run[]): Run {
  if (rounds.length === 0) throw new Error("medianRound: no rounds");
  const sorted = [...rounds].sort((a, b) => a.result.committedPerSecond - b.result.committedPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
