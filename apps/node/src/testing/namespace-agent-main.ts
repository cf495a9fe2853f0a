#!/usr/bin/env node
/**
 * A client that runs inside a network namespace on behalf of a test outside it (the test process
 * has no address on the namespaces' network). Commands arrive as JSON lines on stdin, answers
 * leave as JSON lines on stdout, each with the command's `id`:
 *
 * - `{ id, op: "http", method, url, body?, headers? }` -> `{ id, status, body, headers }` (or `{ id, error }`)
 * - `{ id, op: "srv", name }` -> `{ id, records: [{ name, port }] }` (a DNS SRV lookup)
 * - `{ id, op: "workload-start", endpoints, keys, processCount, operationsPerProcessMax }` -> `{ id }`
 * - `{ id, op: "workload-count" }` -> `{ id, acknowledged }`
 * - `{ id, op: "workload-stop" }` -> `{ id, events, acknowledged, unexpectedErrors }`
 *
 * The workload is the one of the node's integration tests: concurrent clients that each read a key
 * and move it to its next state with `expect`, recorded as a DESIGN.md §8 history.
 */
import { promises as dns } from "node:dns";
import { createInterface } from "node:readline";
import { isOutcomeUnknown, isRefusal, LockstepClient, LockstepError } from "@lockstep/client";

const httpTimeoutMs = 5_000;
const nextState: Readonly<Record<string, string>> = { Init: "Running", Running: "Stopped", Stopped: "Init" };

interface HistoryEvent {
  process: number;
  type: "invoke" | "ok" | "fail" | "info";
  f: "transition" | "read";
  key: string;
  value: string | null;
  time: number;
  expect?: string;
}

interface WorkloadCommand {
  endpoints: string[];
  keys: string[];
  processCount: number;
  operationsPerProcessMax: number;
}

class Workload {
  readonly events: HistoryEvent[] = [];
  acknowledged = 0;
  readonly unexpectedErrors: string[] = [];
  private stopping = false;
  private readonly origin = process.hrtime.bigint();
  private readonly running: Promise<void>[];

  constructor(private readonly options: WorkloadCommand) {
    this.running = Array.from({ length: options.processCount }, (_, index) => this.runProcess(index));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  private now(): number {
    return Number(process.hrtime.bigint() - this.origin);
  }

  private record(event: Omit<HistoryEvent, "time">): void {
    this.events.push({ ...event, time: this.now() });
  }

  private async runProcess(processId: number): Promise<void> {
    const client = new LockstepClient({
      endpoints: this.options.endpoints,
      requestTimeoutMs: 3_000,
      retryAttemptsMax: 10,
      retryDelayMs: 50,
      retryDelayMaxMs: 400,
    });
    for (let operation = 0; operation < this.options.operationsPerProcessMax && !this.stopping; operation++) {
      const key = this.options.keys[Math.floor(Math.random() * this.options.keys.length)]!;
      this.record({ process: processId, type: "invoke", f: "read", key, value: null });
      let seen: string;
      try {
        seen = (await client.get(key)).state;
        this.record({ process: processId, type: "ok", f: "read", key, value: seen });
      } catch (error) {
        this.record({ process: processId, type: "info", f: "read", key, value: null });
        this.noteUnexpected(error, false);
        continue;
      }
      if (this.stopping) break;
      const to = nextState[seen]!;
      this.record({ process: processId, type: "invoke", f: "transition", key, value: to, expect: seen });
      try {
        await client.transition(key, to, { expect: seen });
        this.record({ process: processId, type: "ok", f: "transition", key, value: to });
        this.acknowledged += 1;
      } catch (error) {
        this.record({ process: processId, type: isRefusal(error) ? "fail" : "info", f: "transition", key, value: null });
        this.noteUnexpected(error, true);
      }
    }
  }

  private noteUnexpected(error: unknown, refusalExpected: boolean): void {
    if (refusalExpected && isRefusal(error)) return;
    if (isOutcomeUnknown(error) || (error instanceof LockstepError && error.code === "unavailable")) return;
    this.unexpectedErrors.push(error instanceof LockstepError ? `${error.code}: ${error.message}` : String(error));
  }
}

let workload: Workload | null = null;

async function handle(command: Record<string, unknown>): Promise<Record<string, unknown>> {
  switch (command.op) {
    case "http": {
      const body = command.body === undefined ? undefined : JSON.stringify(command.body);
      const extraHeaders = typeof command.headers === "object" && command.headers !== null ? (command.headers as Record<string, string>) : {};
      const response = await fetch(String(command.url), {
        method: typeof command.method === "string" ? command.method : "GET",
        headers: { ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...extraHeaders },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(httpTimeoutMs),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON (the metrics text): answered as a string.
      }
      return { status: response.status, body: parsed, headers: Object.fromEntries(response.headers.entries()) };
    }
    case "srv":
      return { records: (await dns.resolveSrv(String(command.name))).map((record) => ({ name: record.name, port: record.port })) };
    case "workload-start":
      if (workload !== null) throw new Error("a workload is already running");
      workload = new Workload(command as unknown as WorkloadCommand);
      return {};
    case "workload-count":
      return { acknowledged: workload?.acknowledged ?? 0 };
    case "workload-stop": {
      if (workload === null) throw new Error("no workload is running");
      const stopped = workload;
      workload = null;
      await stopped.stop();
      return { events: stopped.events, acknowledged: stopped.acknowledged, unexpectedErrors: stopped.unexpectedErrors };
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(command.op)}`);
  }
}

const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on("line", (line) => {
  let command: Record<string, unknown>;
  try {
    command = JSON.parse(line) as Record<string, unknown>;
  } catch {
    process.stdout.write(`${JSON.stringify({ id: null, error: `not JSON: ${line.slice(0, 100)}` })}\n`);
    return;
  }
  handle(command).then(
    (answer) => process.stdout.write(`${JSON.stringify({ id: command.id, ...answer })}\n`),
    (error: unknown) => process.stdout.write(`${JSON.stringify({ id: command.id, error: error instanceof Error ? error.message : String(error) })}\n`),
  );
});
input.once("close", () => process.exit(0));
process.stdout.write("ready\n");
