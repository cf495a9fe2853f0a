import type { ApplyResult, Definition, SessionRefusal, Store } from "@lockstep/state-machine";
import type { MetricsSink } from "../metrics-sink.js";
import { CounterBatch, CounterCell } from "./counter-batch.js";

/** The label every value outside the definition takes, so no client can grow a metric's series. */
const otherLabel = "other";

/**
 * Reports the store to metrics: what it holds against its limits (gauges), the sessions it
 * expired and refused, and applied transitions labelled only with values the definition names:
 * `from` a state, `to` a state the definition lets `from` move to; anything else is `other`.
 */
export class StoreMetrics {
  private readonly states: ReadonlySet<string>;
  /** The states the definition lets each state move to. */
  private readonly targets: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * The series of `transitions_total` by from, to and result label, each built once: this runs
   * for every applied transition on every node. Bounded by the labels themselves: (states + 1)^2
   * pairs times the result codes.
   */
  private readonly transitionCells = new Map<string, Map<string, Map<string, CounterCell>>>();
  /** The series of an ok transition the definition allows, by from and to: the common case, two lookups. */
  private readonly okTransitionCells = new Map<string, Map<string, CounterCell>>();
  /** The store's expiration counts already reported; they restart at 0 with each restored store. */
  private reported = { capacity: 0, idle: 0, registered: 0 };

  constructor(
    private readonly metrics: MetricsSink,
    definition: Definition,
    /** transitions_total goes through it: summed over a batch of applied entries when one is open. */
    private readonly counters: CounterBatch = new CounterBatch(metrics),
  ) {
    this.states = new Set(definition.states);
    const targets = new Map<string, Set<string>>();
    for (const { from, to } of definition.transitions) {
      const fromTargets = targets.get(from) ?? new Set<string>();
      fromTargets.add(to);
      targets.set(from, fromTargets);
    }
    this.targets = targets;
    for (const [from, tos] of targets) {
      const byTo = new Map<string, CounterCell>();
      for (const to of tos) byTo.set(to, this.transitionCellFor(from, to, "ok"));
      this.okTransitionCells.set(from, byTo);
    }
  }

  transitionApplied(to: string, result: ApplyResult): void {
    // An ok transition is one the definition allows: its labels are its own from and to.
    const allowed = result.ok && result.kind === "transition" ? this.okTransitionCells.get(result.from)?.get(to) : undefined;
    if (allowed !== undefined) return this.counters.increment(allowed);
    const from = sourceOf(result);
    const fromLabel = from !== undefined && this.states.has(from) ? from : otherLabel;
    const toLabel = from !== undefined && this.targets.get(from)?.has(to) === true ? to : otherLabel;
    this.counters.increment(this.transitionCellFor(fromLabel, toLabel, result.ok ? "ok" : result.code));
  }

  private transitionCellFor(from: string, to: string, result: string): CounterCell {
    let byTo = this.transitionCells.get(from);
    if (byTo === undefined) this.transitionCells.set(from, (byTo = new Map<string, Map<string, CounterCell>>()));
    let byResult = byTo.get(to);
    if (byResult === undefined) byTo.set(to, (byResult = new Map<string, CounterCell>()));
    let cell = byResult.get(result);
    if (cell === undefined) byResult.set(result, (cell = new CounterCell("transitions_total", Object.freeze({ from, to, result }))));
    return cell;
  }

  sessionRefused(result: SessionRefusal): void {
    this.metrics.increment("session_refusals_total", { reason: result.code === "request_id_reused" ? "request_id_reused" : result.reason });
  }

  /** After a batch of applies: gauges of use and limits, and the expirations since the last batch. */
  update(store: Store): void {
    const usage = store.usage();
    const limits = store.limits;
    this.metrics.set("state_keys", {}, usage.keys);
    this.metrics.set("state_bytes", {}, usage.stateBytes);
    this.metrics.set("state_keys_max", {}, limits.keysMax);
    this.metrics.set("state_bytes_max", {}, limits.stateBytesMax);
    this.metrics.set("sessions_active", {}, usage.sessions);
    this.metrics.set("sessions_max", {}, limits.sessionsMax);
    const { capacity, idle } = usage.sessionExpirations;
    if (capacity > this.reported.capacity) this.metrics.increment("session_expirations_total", { reason: "capacity" }, capacity - this.reported.capacity);
    if (idle > this.reported.idle) this.metrics.increment("session_expirations_total", { reason: "idle" }, idle - this.reported.idle);
    if (usage.sessionsRegistered > this.reported.registered) this.metrics.increment("sessions_registered_total", {}, usage.sessionsRegistered - this.reported.registered);
    this.reported = { capacity, idle, registered: usage.sessionsRegistered };
  }

  /** A snapshot replaced the store: its counts start again from what it holds. */
  restored(store: Store): void {
    const usage = store.usage();
    this.reported = { ...usage.sessionExpirations, registered: usage.sessionsRegistered };
    this.update(store);
  }
}

/** The state a write started from, when the result says; undefined for session refusals. */
function sourceOf(result: ApplyResult): string | undefined {
  if (result.ok) return result.kind === "transition" || result.kind === "delete" ? result.from : undefined;
  switch (result.code) {
    case "invalid_transition":
      return result.from;
    case "expect_failed":
      return result.actual;
    case "quota_exceeded":
    case "session_expired":
    case "request_id_reused":
    case "join_token_refused":
    case "token_exists":
    case "token_not_found":
    case "already_bootstrapped":
    case "tokens_full":
      return undefined;
  }
}
