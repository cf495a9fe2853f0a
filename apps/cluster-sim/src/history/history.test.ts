import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HistoryFileError, parseHistory, readHistory, writeHistory } from "./history-file.js";
import { HistoryRecorder } from "./history-recorder.js";

describe("HistoryRecorder", () => {
  it("records invokes and their completions in the DESIGN.md §8 shape", () => {
    let nowNs = 10;
    const recorder = new HistoryRecorder(() => nowNs);
    const write = recorder.invoke(0, "transition", "web-1", "Running", "Init");
    const read = recorder.invoke(1, "read", "web-1", null);
    nowNs = 20;
    recorder.ok(write, "Running");
    recorder.info(read);
    const failed = recorder.invoke(0, "transition", "web-1", "Stopped");
    recorder.fail(failed);
    expect(recorder.events()).toEqual([
      { process: 0, type: "invoke", f: "transition", key: "web-1", value: "Running", time: 10, expect: "Init" },
      { process: 1, type: "invoke", f: "read", key: "web-1", value: null, time: 10 },
      { process: 0, type: "ok", f: "transition", key: "web-1", value: "Running", time: 20 },
      { process: 1, type: "info", f: "read", key: "web-1", value: null, time: 20 },
      { process: 0, type: "invoke", f: "transition", key: "web-1", value: "Stopped", time: 20 },
      { process: 0, type: "fail", f: "transition", key: "web-1", value: null, time: 20 },
    ]);
    expect(recorder.openOperations()).toBe(0);
  });

  it("refuses to complete an operation twice or to run two at once on one process", () => {
    const recorder = new HistoryRecorder(() => 0);
    const handle = recorder.invoke(0, "read", "k", null);
    expect(() => recorder.invoke(0, "read", "k", null)).toThrow(/already|while/);
    recorder.ok(handle, "Init");
    expect(() => recorder.fail(handle)).toThrow(/not open/);
  });

  it("never lets time go backwards", () => {
    let nowNs = 100;
    const recorder = new HistoryRecorder(() => nowNs);
    const handle = recorder.invoke(0, "read", "k", null);
    nowNs = 50;
    recorder.ok(handle, "Init");
    expect(recorder.events().map((event) => event.time)).toEqual([100, 100]);
  });
});

describe("history files", () => {
  const directory = mkdtempSync(join(tmpdir(), "lockstep-history-"));

  it("round-trips through JSON lines", () => {
    const recorder = new HistoryRecorder(() => 5);
    recorder.ok(recorder.invoke(3, "transition", "k", "Running", "Init"), "Running");
    recorder.info(recorder.invoke(4, "read", "k", null));
    const path = join(directory, "round-trip.jsonl");
    writeHistory(path, recorder.events());
    expect(readHistory(path)).toEqual({ ok: true, events: recorder.events() });
  });

  it("names the line of the first bad event", () => {
    const good = JSON.stringify({ process: 0, type: "invoke", f: "read", key: "k", value: null, time: 1 });
    expect(parseHistory(`${good}\n\n${good}\n{"process":0,"type":"done","f":"read","key":"k","value":null,"time":2}\n`)).toEqual({
      ok: false,
      line: 4,
      reason: expect.stringContaining("type") as string,
    });
    expect(parseHistory(`${good}\nnot json`)).toMatchObject({ ok: false, line: 2, reason: expect.stringContaining("not JSON") as string });
    expect(parseHistory(`${good}\n${"x".repeat(10_000)}`)).toMatchObject({ ok: false, line: 2 });
    expect(parseHistory(`{"process":-1,"type":"ok","f":"read","key":"k","value":null,"time":1}`)).toMatchObject({ ok: false, line: 1, reason: expect.stringContaining("process") as string });
  });

  it("throws a HistoryFileError with a code when the file cannot be read or written", () => {
    expect(() => readHistory(join(directory, "missing.jsonl"))).toThrow(HistoryFileError);
    writeFileSync(join(directory, "file"), "");
    try {
      writeHistory(join(directory, "file", "below-a-file.jsonl"), []);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ name: "HistoryFileError", code: "write_failed" });
    }
  });
});
