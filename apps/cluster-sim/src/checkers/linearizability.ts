import type { HistoryEvent } from "../history/index.js";
import { pairOperations } from "./history-operations.js";
import type { CheckedOperation } from "./history-operations.js";
import { lifecycleRegisterDefinition, RegisterModel } from "./register-model.js";
import type { RegisterDefinition } from "./register-model.js";
import { searchLinearization } from "./wgl-search.js";

/** Search steps per check at most: beyond it the answer is "unknown", never a hang. */
export const defaultStatesExploredMax = 5_000_000;
/** Operations of the longest valid order shown in an explanation. */
const explainedOrderOperationsMax = 8;
/** Concurrent operations listed in an explanation. */
const explainedConcurrentOperationsMax = 8;

export interface LinearizabilityOptions {
  /** States, initial state and allowed transitions (a state-machine `Definition` fits); the lifecycle by default. */
  definition?: RegisterDefinition;
  /** Bound on search steps over the whole history (all keys together). */
  statesExploredMax?: number;
}

export type LinearizabilityResult =
  | { ok: true; keys: number; operations: number; statesExplored: number }
  | {
      ok: false;
      key: string;
      reason: "not_linearizable" | "malformed_history";
      explanation: string;
      /** The ok operation no valid order could place (absent for a malformed history). */
      blocking?: CheckedOperation;
      /** The longest valid order found before it, oldest first. */
      longestOrder?: CheckedOperation[];
      /** The operations of the key that overlap the blocking one in real time. */
      concurrent?: CheckedOperation[];
    }
  | { ok: "unknown"; key: string; reason: "search limit"; explanation: string; statesExplored: number };

/**
 * Is the history linearizable for a register per key whose state moves only by the definition's
 * transitions? Keys are independent (linearizability is compositional, Herlihy & Wing), so each
 * key is searched on its own, in sorted order; the first violation is returned. Semantics:
 * - transition ok: took effect once between invoke and ok, was allowed from the state then, and
 *   its `expect` (if any) matched that state;
 * - transition fail: did not take effect; transition info (or never completed): took effect once
 *   at some point after its invoke, or never;
 * - read ok with value v: the state at some point between invoke and ok was v; other reads are ignored.
 */
export function checkLinearizability(events: readonly HistoryEvent[], options: LinearizabilityOptions = {}): LinearizabilityResult {
  const paired = pairOperations(events);
  if (!paired.ok) {
    return { ok: false, key: paired.key, reason: "malformed_history", explanation: `malformed history: ${paired.reason}` };
  }
  const model = new RegisterModel(options.definition ?? lifecycleRegisterDefinition);
  let budget = options.statesExploredMax ?? defaultStatesExploredMax;
  let statesExplored = 0;
  let operationsCount = 0;
  let unknown: LinearizabilityResult | null = null;
  for (const key of [...paired.byKey.keys()].sort()) {
    const operations = paired.byKey.get(key) ?? [];
    operationsCount += operations.length;
    const outcome = searchLinearization(operations, model, budget);
    statesExplored += outcome.statesExplored;
    budget = Math.max(0, budget - outcome.statesExplored);
    switch (outcome.kind) {
      case "linearizable":
        break;
      case "limit":
        // Keep checking the other keys: a definite violation elsewhere is worth more than "unknown".
        unknown ??= {
          ok: "unknown",
          key,
          reason: "search limit",
          explanation: `key "${key}": gave up after ${outcome.statesExplored} search steps (${operations.length} operations); raise statesExploredMax`,
          statesExplored,
        };
        break;
      case "violation": {
        const blocking = operations[outcome.blocking] as CheckedOperation;
        const longestOrder = outcome.longestOrder.map((index) => operations[index] as CheckedOperation);
        const concurrent = operations.filter((operation) => operation !== blocking && overlaps(operation, blocking)).slice(0, explainedConcurrentOperationsMax);
        const explanation = explain({ key, model, blocking, longestOrder, concurrent, stateAfter: model.nameOf(outcome.stateAfter) });
        return { ok: false, key, reason: "not_linearizable", explanation, blocking, longestOrder, concurrent };
      }
    }
  }
  return unknown ?? { ok: true, keys: paired.byKey.size, operations: operationsCount, statesExplored };
}

function overlaps(a: CheckedOperation, b: CheckedOperation): boolean {
  const aEnd = a.completePosition ?? Number.POSITIVE_INFINITY;
  const bEnd = b.completePosition ?? Number.POSITIVE_INFINITY;
  return a.invokePosition < bEnd && b.invokePosition < aEnd;
}

function explain(context: {
  key: string;
  model: RegisterModel;
  blocking: CheckedOperation;
  longestOrder: CheckedOperation[];
  concurrent: CheckedOperation[];
  stateAfter: string;
}): string {
  const { key, blocking, longestOrder, concurrent, stateAfter } = context;
  const shown = longestOrder.slice(-explainedOrderOperationsMax);
  const lines = [
    `key "${key}" is not linearizable: no order of its operations that respects real time can place`,
    `  ${describeOperation(blocking)}`,
    `  ${whyNot(context.model, blocking, stateAfter)}`,
    `longest valid order found: ${longestOrder.length} operation(s)${shown.length < longestOrder.length ? `, last ${shown.length}` : ""}, leaving the state ${stateAfter}`,
    ...shown.map((operation) => `  ${describeOperation(operation)}`),
  ];
  if (concurrent.length > 0) lines.push("operations concurrent with it:", ...concurrent.map((operation) => `  ${describeOperation(operation)}`));
  return lines.join("\n");
}

function whyNot(model: RegisterModel, operation: CheckedOperation, state: string): string {
  if (operation.f === "read") return `(after that order the state is ${state}, but the read saw ${operation.value})`;
  if (operation.expect !== undefined && operation.expect !== state) return `(after that order the state is ${state}, but the transition expected ${operation.expect})`;
  if (!model.isAllowed(model.idOf(state), model.idOf(operation.value))) return `(after that order the state is ${state}, and ${state} -> ${operation.value} is not an allowed transition)`;
  return `(it is allowed from ${state}, but every order that places it breaks a later operation)`;
}

function describeOperation(operation: CheckedOperation): string {
  const what = operation.f === "read" ? `read -> ${operation.value}` : `transition to ${operation.value}${operation.expect === undefined ? "" : ` expecting ${operation.expect}`}`;
  const when =
    operation.completeTimeNs === null
      ? `invoked at ${formatNs(operation.invokeTimeNs)}, outcome unknown`
      : `invoked at ${formatNs(operation.invokeTimeNs)}, ok at ${formatNs(operation.completeTimeNs)}`;
  return `process ${operation.process}: ${what} (${operation.status}; ${when})`;
}

function formatNs(ns: number): string {
  return `${(ns / 1_000_000).toFixed(3)} ms`;
}
