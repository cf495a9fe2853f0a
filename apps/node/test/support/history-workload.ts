import { isOutcomeUnknown, isRefusal, LockstepClient, LockstepError, type LockstepClientOptions, type TransitionResponse } from "@lockstep/client";
import { HistoryRecorder, type HistoryEvent } from "../../../cluster-sim/src/history/index.js";

/** The lifecycle's one allowed move out of each state (DESIGN.md §1). */
export const nextState: Readonly<Record<string, string>> = { Init: "Running", Running: "Stopped", Stopped: "Init" };

export interface WorkloadOptions {
  endpoints: readonly string[];
  keys: readonly string[];
  /** Client processes, each one operation at a time, as in a Jepsen history. */
  processCount: number;
  /** Bounds the run even if `stop()` is never called. */
  operationsPerProcessMax: number;
  /** How the clients reach the nodes (`@lockstep/client`'s `transport`); default `http`. */
  transport?: "http" | "ws";
  /** For a secured cluster: the token and the CA (and a client certificate) every client uses. */
  clientOptions?: Pick<LockstepClientOptions, "token" | "ca" | "cert" | "key">;
}

export interface WorkloadResult {
  events: HistoryEvent[];
  /** Every transition a client was told succeeded, with the revision the cluster gave it. */
  acknowledged: TransitionResponse[];
  /** Answers no correct node should give (500s, protocol errors, bad requests). */
  unexpectedErrors: string[];
  /** `performance.now()` at each acknowledged transition's answer, in the same order. */
  acknowledgedAtMs: number[];
}

/**
 * Several concurrent LockstepClients each doing: read a key (linearizable), then move it to the
 * next state with `expect` set to what they read. Every operation is recorded as a DESIGN.md §8
 * history: ok, fail (refused: certainly not applied) or info (outcome unknown).
 */
export class HistoryWorkload {
  private readonly recorder: HistoryRecorder;
  private readonly originNs = process.hrtime.bigint();
  private stopping = false;
  private readonly acknowledged: TransitionResponse[] = [];
  private readonly acknowledgedAtMs: number[] = [];
  private readonly unexpectedErrors: string[] = [];
  private readonly running: Promise<void>[];

  constructor(private readonly options: WorkloadOptions) {
    this.recorder = new HistoryRecorder(() => Number(process.hrtime.bigint() - this.originNs));
    this.running = Array.from({ length: options.processCount }, (_, index) => this.runProcess(index));
  }

  /** Acknowledged transitions so far. */
  get acknowledgedCount(): number {
    return this.acknowledged.length;
  }

  /** Lets every process finish its current operation, then resolves the history. */
  async stop(): Promise<WorkloadResult> {
    this.stopping = true;
    await Promise.all(this.running);
    return {
      events: this.recorder.events(),
      acknowledged: [...this.acknowledged],
      acknowledgedAtMs: [...this.acknowledgedAtMs],
      unexpectedErrors: [...this.unexpectedErrors],
    };
  }

  private async runProcess(processId: number): Promise<void> {
    const client = new LockstepClient({
      endpoints: this.options.endpoints,
      requestTimeoutMs: 3_000,
      retryAttemptsMax: 10,
      retryDelayMs: 50,
      retryDelayMaxMs: 400,
      transport: this.options.transport ?? "http",
      ...this.options.clientOptions,
    });
    for (let operation = 0; operation < this.options.operationsPerProcessMax && !this.stopping; operation++) {
      const key = this.options.keys[Math.floor(Math.random() * this.options.keys.length)]!;
      const seen = await this.read(client, processId, key);
      if (seen === undefined || this.stopping) continue;
      await this.transition(client, processId, key, nextState[seen]!, seen);
    }
    client.close();
  }

  private async read(client: LockstepClient, processId: number, key: string): Promise<string | undefined> {
    const handle = this.recorder.invoke(processId, "read", key, null);
    try {
      const { state } = await client.get(key);
      this.recorder.ok(handle, state);
      return state;
    } catch (error) {
      this.recorder.info(handle);
      this.noteUnexpected(error, false);
      return undefined;
    }
  }

  private async transition(client: LockstepClient, processId: number, key: string, to: string, expect: string): Promise<void> {
    const handle = this.recorder.invoke(processId, "transition", key, to, expect);
    try {
      const response = await client.transition(key, to, { expect });
      this.recorder.ok(handle, to);
      this.acknowledged.push(response);
      this.acknowledgedAtMs.push(performance.now());
    } catch (error) {
      if (isRefusal(error)) this.recorder.fail(handle);
      else this.recorder.info(handle);
      this.noteUnexpected(error, true);
    }
  }

  private noteUnexpected(error: unknown, refusalExpected: boolean): void {
    if (refusalExpected && isRefusal(error)) return;
    // Every retry failed (e.g. during an election): unavailable, which a history records as info.
    if (isOutcomeUnknown(error) || (error instanceof LockstepError && error.code === "unavailable")) return;
    this.unexpectedErrors.push(error instanceof LockstepError ? `${error.code}: ${error.message}` : String(error));
  }
}
