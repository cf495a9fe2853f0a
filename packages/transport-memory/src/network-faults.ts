import type { RandomSource } from "@lockstep/consensus";
import type { NodeId } from "@lockstep/protocol";

/**
 * How one directed link behaves. Latency is uniform over whole milliseconds in
 * [latencyMsMin, latencyMsMax] unless the network was given a `latencyMs` function. A reordered
 * message gets an extra delay in [0, reorderDelayMsMax), so it overtakes or is overtaken by
 * messages sent around it; jittery latency alone reorders too.
 */
export interface LinkFaults {
  latencyMsMin: number;
  latencyMsMax: number;
  lossProbability: number;
  duplicateProbability: number;
  reorderProbability: number;
  reorderDelayMsMax: number;
}

export const defaultLinkFaults: Readonly<LinkFaults> = Object.freeze({
  latencyMsMin: 1,
  latencyMsMax: 5,
  lossProbability: 0,
  duplicateProbability: 0,
  reorderProbability: 0,
  reorderDelayMsMax: 50,
});

/** A latency distribution as a function of the network's seeded generator; must return ms >= 0. */
export type LatencyFunction = (random: RandomSource, from: NodeId, to: NodeId) => number;

/** Why a message was not delivered. */
export type DropReason =
  /** Chosen by the loss probability. */
  | "lost"
  /** The link was cut (partition, one-way cut, isolation, bridge) at send or at delivery time. */
  | "partitioned"
  /** The link already had `inflightPerLinkMax` messages in flight. */
  | "overflow"
  /** Sender or receiver crashed while the message was in flight, or the sender is down. */
  | "crashed"
  /** Sent through an endpoint that was closed, or one from before a crash. */
  | "closed"
  /** Nobody is listening at the destination (never registered, or not restarted yet). */
  | "no_handler"
  /** Not serializable, `from` not the sending endpoint, not a consensus message, or (when validating) not a valid envelope. */
  | "invalid";

export const dropReasons: readonly DropReason[] = ["lost", "partitioned", "overflow", "crashed", "closed", "no_handler", "invalid"];

export interface NetworkStats {
  /** `send` calls. */
  sent: number;
  /** Handler invocations (a duplicated message can count twice). */
  delivered: number;
  /** Extra copies scheduled by the duplication probability. */
  duplicated: number;
  /** Messages (or copies) that never reached a handler. */
  dropped: number;
  droppedByReason: Record<DropReason, number>;
}

export function emptyNetworkStats(): NetworkStats {
  const droppedByReason = {} as Record<DropReason, number>;
  for (const reason of dropReasons) droppedByReason[reason] = 0;
  return { sent: 0, delivered: 0, duplicated: 0, dropped: 0, droppedByReason };
}

/** Merges `update` into `base`, throwing on values that cannot describe a network (a caller's bug). */
export function mergeLinkFaults(base: Readonly<LinkFaults>, update: Partial<LinkFaults>): LinkFaults {
  const merged = { ...base, ...update };
  for (const name of ["lossProbability", "duplicateProbability", "reorderProbability"] as const) {
    const value = merged[name];
    if (!(value >= 0 && value <= 1)) throw new Error(`${name} must be in [0, 1], got ${value}`);
  }
  for (const name of ["latencyMsMin", "latencyMsMax", "reorderDelayMsMax"] as const) {
    const value = merged[name];
    if (!(Number.isSafeInteger(value) && value >= 0)) throw new Error(`${name} must be a non-negative integer, got ${value}`);
  }
  if (merged.latencyMsMin > merged.latencyMsMax) {
    throw new Error(`latencyMsMin (${merged.latencyMsMin}) exceeds latencyMsMax (${merged.latencyMsMax})`);
  }
  return merged;
}
