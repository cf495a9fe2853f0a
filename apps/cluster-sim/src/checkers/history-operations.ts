import type { HistoryEvent } from "../history/index.js";

/** One operation of the history that the checker must (ok) or may (info) linearize. */
export interface CheckedOperation {
  process: number;
  f: "transition" | "read";
  key: string;
  /** The transition's target state, or the state the read saw. */
  value: string;
  expect?: string;
  /** ok: it took effect between invoke and completion. info: it may have, at any time after invoke. */
  status: "ok" | "info";
  invokeTimeNs: number;
  completeTimeNs: number | null;
  /** Positions in the history: the real-time order the search respects. */
  invokePosition: number;
  completePosition: number | null;
}

export type PairResult = { ok: true; byKey: Map<string, CheckedOperation[]> } | { ok: false; key: string; reason: string };

interface Open {
  event: HistoryEvent;
  position: number;
}

/**
 * Matches each invoke with its completion (per process; a process has one operation open at a
 * time) and keeps what constrains the register: ok operations, and transitions whose outcome is
 * unknown (`info`, or no completion before the end). Failed operations certainly did not happen,
 * and a read that did not answer says nothing, so both are dropped.
 */
export function pairOperations(events: readonly HistoryEvent[]): PairResult {
  const open = new Map<number, Open>();
  const byKey = new Map<string, CheckedOperation[]>();
  const keep = (operation: CheckedOperation): void => {
    const list = byKey.get(operation.key);
    if (list === undefined) byKey.set(operation.key, [operation]);
    else list.push(operation);
  };
  let lastTimeNs = 0;
  for (let position = 0; position < events.length; position++) {
    const event = events[position] as HistoryEvent;
    const where = `event ${position + 1} (process ${event.process}, ${event.type} ${event.f})`;
    if (event.time < lastTimeNs) return { ok: false, key: event.key, reason: `${where}: time goes backwards` };
    lastTimeNs = event.time;
    if (event.type === "invoke") {
      if (open.has(event.process)) return { ok: false, key: event.key, reason: `${where}: process already has an operation open` };
      if (event.f === "transition" && event.value === null) return { ok: false, key: event.key, reason: `${where}: a transition invoke needs a target state` };
      open.set(event.process, { event, position });
      continue;
    }
    const invoke = open.get(event.process);
    if (invoke === undefined || invoke.event.f !== event.f || invoke.event.key !== event.key) {
      return { ok: false, key: event.key, reason: `${where}: no matching open invoke` };
    }
    open.delete(event.process);
    const result = completeOperation(invoke, event, position, where);
    if (typeof result === "string") return { ok: false, key: event.key, reason: result };
    if (result !== null) keep(result);
  }
  // An invoke never completed is indeterminate: it may yet take effect.
  for (const invoke of [...open.values()].sort((a, b) => a.position - b.position)) {
    if (invoke.event.f === "transition") keep(operationOf(invoke, "info", invoke.event.value as string, null, null));
  }
  return { ok: true, byKey };
}

/** The kept operation, null if it constrains nothing, or a string saying why the pair is malformed. */
function completeOperation(invoke: Open, event: HistoryEvent, position: number, where: string): CheckedOperation | null | string {
  switch (event.type) {
    case "fail":
      return null;
    case "info":
      return event.f === "read" ? null : operationOf(invoke, "info", invoke.event.value as string, null, null);
    case "ok":
      if (event.f === "read") {
        return event.value === null ? `${where}: a read ok needs the state read` : operationOf(invoke, "ok", event.value, event.time, position);
      }
      if (event.value !== null && event.value !== invoke.event.value) {
        return `${where}: ok value ${event.value} differs from the invoked target ${invoke.event.value ?? "null"}`;
      }
      return operationOf(invoke, "ok", invoke.event.value as string, event.time, position);
    case "invoke":
      return `${where}: unexpected invoke`;
  }
}

function operationOf(invoke: Open, status: "ok" | "info", value: string, completeTimeNs: number | null, completePosition: number | null): CheckedOperation {
  const { process, f, key, expect } = invoke.event;
  return {
    process,
    f,
    key,
    value,
    ...(expect === undefined ? {} : { expect }),
    status,
    invokeTimeNs: invoke.event.time,
    completeTimeNs,
    invokePosition: invoke.position,
    completePosition,
  };
}
