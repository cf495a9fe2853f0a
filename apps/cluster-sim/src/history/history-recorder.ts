import type { HistoryEvent } from "./history-event.js";

/** Events one recorder keeps at most: a run that records more is stuck in a loop. */
export const historyEventsMax = 10_000_000;

/** An operation invoked and not yet completed; pass it back to `ok`, `fail` or `info`. */
export type OperationHandle = { readonly operationId: number };

interface OpenOperation {
  process: number;
  f: HistoryEvent["f"];
  key: string;
}

/**
 * Records a client history as the workload runs. Each process runs one operation at a time, as a
 * client thread would; completing an operation twice, or invoking a second one on a busy process,
 * is a bug in the workload and throws.
 */
export class HistoryRecorder {
  private readonly recorded: HistoryEvent[] = [];
  private readonly open = new Map<number, OpenOperation>();
  private readonly busyProcesses = new Set<number>();
  private nextOperationId = 1;
  private lastTimeNs = 0;

  /** `nowNs` must be monotonic (e.g. the virtual clock's ms × 1e6). */
  constructor(private readonly nowNs: () => number) {}

  invoke(process: number, f: HistoryEvent["f"], key: string, value: string | null, expect?: string): OperationHandle {
    if (this.busyProcesses.has(process)) throw new Error(`HistoryRecorder: process ${process} invoked while an operation is open`);
    const operationId = this.nextOperationId++;
    this.open.set(operationId, { process, f, key });
    this.busyProcesses.add(process);
    this.push({ process, type: "invoke", f, key, value, ...(expect === undefined ? {} : { expect }) });
    return { operationId };
  }

  /** The operation took effect: `value` is the transition's target, or the state a read saw. */
  ok(handle: OperationHandle, value: string | null): void {
    this.complete(handle, "ok", value);
  }

  /** The operation certainly did not take effect (rejected, invalid transition, expect failed). */
  fail(handle: OperationHandle): void {
    this.complete(handle, "fail", null);
  }

  /** The outcome is unknown (timeout, lost connection): it may take effect at any later time, or never. */
  info(handle: OperationHandle): void {
    this.complete(handle, "info", null);
  }

  /** A copy of the events so far, in the order recorded. */
  events(): HistoryEvent[] {
    return this.recorded.map((event) => ({ ...event }));
  }

  /** Operations invoked and not yet completed. */
  openOperations(): number {
    return this.open.size;
  }

  private complete(handle: OperationHandle, type: "ok" | "fail" | "info", value: string | null): void {
    const operation = this.open.get(handle.operationId);
    if (operation === undefined) throw new Error(`HistoryRecorder: operation ${handle.operationId} is not open`);
    this.open.delete(handle.operationId);
    this.busyProcesses.delete(operation.process);
    this.push({ process: operation.process, type, f: operation.f, key: operation.key, value });
  }

  private push(event: Omit<HistoryEvent, "time">): void {
    if (this.recorded.length >= historyEventsMax) throw new Error(`HistoryRecorder: more than ${historyEventsMax} events (historyEventsMax)`);
    // A clock that steps back would make the checker see an operation end before it began.
    const time = Math.max(this.lastTimeNs, this.nowNs());
    this.lastTimeNs = time;
    this.recorded.push({ ...event, time });
  }
}
