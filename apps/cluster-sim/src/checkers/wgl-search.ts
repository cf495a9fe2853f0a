import { createRandom } from "@lockstep/transport-memory";
import type { CheckedOperation } from "./history-operations.js";
import { noExpect } from "./register-model.js";
import type { RegisterModel } from "./register-model.js";

/** One operation as the search sees it: states as integers. */
interface SearchOperation {
  isRead: boolean;
  value: number;
  expect: number;
  hash: number;
  /** For an operation of unknown outcome: its class (same target, same expect), else -1. */
  infoClass: number;
  /** Its place among the class's operations in invoke order. */
  infoRank: number;
}

/** A call or return in the doubly linked history list (Lowe's "just-in-time linearization"). */
interface ListNode {
  operation: number;
  isCall: boolean;
  /** For a call: its return node, or null for an operation that may never take effect. */
  match: ListNode | null;
  prev: ListNode | null;
  next: ListNode | null;
}

export type SearchOutcome =
  | { kind: "linearizable"; statesExplored: number }
  | { kind: "limit"; statesExplored: number }
  | {
      kind: "violation";
      statesExplored: number;
      /** The longest valid order found, as indexes into the key's operations. */
      longestOrder: number[];
      /** The state after that order. */
      stateAfter: number;
      /** The ok operation whose return was reached before it could be placed after `longestOrder`. */
      blocking: number;
    };

/**
 * Wing & Gong's linearizability search with Lowe's refinements, for one key: walk the history in
 * real-time order; at a call, try to linearize that operation now (if the model allows it and the
 * configuration "these operations done, this state reached" has not been seen before); at the
 * return of an operation not yet linearized, backtrack. Operations of unknown outcome have no
 * return, so the search may place them anywhere after their call or leave them out; it succeeds
 * once no return is left. Memoising configurations makes the search polynomial on the histories
 * real clients produce (Lowe 2017); `statesExploredMax` bounds it on the others.
 *
 * Operations of unknown outcome would otherwise multiply the configurations (each may be in or
 * out), so they are used in invoke order within their class: if a valid order uses a later one
 * of two identical operations (same target, same expect) while the earlier is unused or used
 * later, swapping them gives a valid order too, because the earlier was invoked first. The set of
 * used ones is then a prefix per class, and the search no longer explodes on them.
 */
export function searchLinearization(operations: readonly CheckedOperation[], model: RegisterModel, statesExploredMax: number): SearchOutcome {
  const searchOperations = toSearchOperations(operations, model);
  const head = buildList(operations);
  const cache = new ConfigurationCache(operations.length);
  const stack: { node: ListNode; state: number }[] = [];
  const best = { depth: -1, order: [] as number[], state: model.initial, blocking: -1 };
  const infoUsed = new Array<number>(searchOperations.reduce((classes, operation) => Math.max(classes, operation.infoClass + 1), 0)).fill(0);
  let state = model.initial;
  let entry = head.next;
  let statesExplored = 0;
  for (;;) {
    if (entry === null) return { kind: "linearizable", statesExplored };
    if (++statesExplored > statesExploredMax) return { kind: "limit", statesExplored };
    if (entry.isCall) {
      const operation = searchOperations[entry.operation] as SearchOperation;
      const inTurn = operation.infoClass < 0 || infoUsed[operation.infoClass] === operation.infoRank;
      const next = inTurn ? step(model, state, operation) : null;
      if (next !== null && cache.addIfNew(entry.operation, operation.hash, next)) {
        if (operation.infoClass >= 0) infoUsed[operation.infoClass] = (infoUsed[operation.infoClass] ?? 0) + 1;
        stack.push({ node: entry, state });
        state = next;
        lift(entry);
        entry = head.next;
      } else {
        entry = entry.next;
      }
      continue;
    }
    // The return of an operation that no order so far could place: this branch is dead.
    if (stack.length > best.depth) {
      best.depth = stack.length;
      best.order = stack.map((frame) => frame.node.operation);
      best.state = state;
      best.blocking = entry.operation;
    }
    const frame = stack.pop();
    if (frame === undefined) {
      return { kind: "violation", statesExplored, longestOrder: best.order, stateAfter: best.state, blocking: best.blocking };
    }
    const operation = searchOperations[frame.node.operation] as SearchOperation;
    cache.remove(frame.node.operation, operation.hash);
    if (operation.infoClass >= 0) infoUsed[operation.infoClass] = (infoUsed[operation.infoClass] ?? 0) - 1;
    state = frame.state;
    unlift(frame.node);
    entry = frame.node.next;
  }
}

/** The register's step: the next state, or null if the operation cannot happen in `state`. */
function step(model: RegisterModel, state: number, operation: SearchOperation): number | null {
  if (operation.isRead) return operation.value === state ? state : null;
  if (operation.expect !== noExpect && operation.expect !== state) return null;
  return model.isAllowed(state, operation.value) ? operation.value : null;
}

function toSearchOperations(operations: readonly CheckedOperation[], model: RegisterModel): SearchOperation[] {
  // Random 32-bit tags, combined by XOR, give an incremental hash of the set of linearized operations.
  const random = createRandom(operations.length);
  const classes = new Map<string, { id: number; size: number }>();
  // Ranks follow invoke order, which the canonical order above relies on.
  const byInvoke = operations.map((operation, index) => ({ operation, index })).sort((a, b) => a.operation.invokePosition - b.operation.invokePosition);
  const result = new Array<SearchOperation>(operations.length);
  for (const { operation, index } of byInvoke) {
    let infoClass = -1;
    let infoRank = 0;
    if (operation.status === "info") {
      const name = `${operation.value}\u0000${operation.expect ?? ""}`;
      const known = classes.get(name) ?? { id: classes.size, size: 0 };
      classes.set(name, known);
      infoClass = known.id;
      infoRank = known.size++;
    }
    result[index] = {
      isRead: operation.f === "read",
      value: model.idOf(operation.value),
      expect: operation.expect === undefined ? noExpect : model.idOf(operation.expect),
      hash: Math.floor(random() * 0x1_0000_0000) | 0,
      infoClass,
      infoRank,
    };
  }
  return result;
}

function buildList(operations: readonly CheckedOperation[]): ListNode {
  const events: { position: number; node: ListNode }[] = [];
  operations.forEach((operation, index) => {
    const call: ListNode = { operation: index, isCall: true, match: null, prev: null, next: null };
    events.push({ position: operation.invokePosition, node: call });
    if (operation.status === "ok" && operation.completePosition !== null) {
      const ret: ListNode = { operation: index, isCall: false, match: null, prev: null, next: null };
      call.match = ret;
      events.push({ position: operation.completePosition, node: ret });
    }
  });
  events.sort((a, b) => a.position - b.position);
  const head: ListNode = { operation: -1, isCall: false, match: null, prev: null, next: null };
  let last = head;
  for (const { node } of events) {
    last.next = node;
    node.prev = last;
    last = node;
  }
  return head;
}

/** Removes a call and its return from the list; they keep their own links, so `unlift` can restore them. */
function lift(call: ListNode): void {
  unlink(call);
  if (call.match !== null) unlink(call.match);
}

function unlift(call: ListNode): void {
  if (call.match !== null) relink(call.match);
  relink(call);
}

function unlink(node: ListNode): void {
  if (node.prev !== null) node.prev.next = node.next;
  if (node.next !== null) node.next.prev = node.prev;
}

function relink(node: ListNode): void {
  if (node.prev !== null) node.prev.next = node;
  if (node.next !== null) node.next.prev = node;
}

/** The set of configurations (linearized set, state) already explored. */
class ConfigurationCache {
  private readonly bits: Uint32Array;
  private hash = 0;
  private readonly seen = new Map<number, { bits: Uint32Array; state: number }[]>();

  constructor(operationsCount: number) {
    this.bits = new Uint32Array(Math.ceil(operationsCount / 32) + 1);
  }

  /** Marks `operation` linearized; returns false (and undoes it) if the resulting configuration was seen. */
  addIfNew(operation: number, operationHash: number, state: number): boolean {
    this.flip(operation, operationHash);
    const key = (this.hash ^ Math.imul(state + 1, 0x9e3779b1)) | 0;
    const bucket = this.seen.get(key);
    if (bucket !== undefined && bucket.some((seen) => seen.state === state && equalBits(seen.bits, this.bits))) {
      this.flip(operation, operationHash);
      return false;
    }
    const entry = { bits: this.bits.slice(), state };
    if (bucket === undefined) this.seen.set(key, [entry]);
    else bucket.push(entry);
    return true;
  }

  remove(operation: number, operationHash: number): void {
    this.flip(operation, operationHash);
  }

  private flip(operation: number, operationHash: number): void {
    const word = operation >>> 5;
    this.bits[word] = (this.bits[word] as number) ^ (1 << (operation & 31));
    this.hash ^= operationHash;
  }
}

function equalBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
