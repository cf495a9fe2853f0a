import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lifecycleDefinition, type Definition } from "./definition.js";
import { definitionHash } from "./definition-hash.js";
import { encodeSnapshot, type SnapshotContent } from "./snapshot.js";
import { Store } from "./store.js";

function sampleStore(): Store {
  const store = new Store(lifecycleDefinition, { members: ["n1", "n2", "n3"], sessionWindowSeqs: 16, sessionsMax: 4 });
  store.apply(1, { kind: "register_session", nonce: "a" });
  store.apply(2, { kind: "register_session", nonce: "b" });
  store.apply(3, { kind: "transition", key: "web-1", to: "Running", session: { clientId: "1", seq: 1 } });
  store.apply(4, { kind: "transition", key: "web-2", to: "Stopped", session: { clientId: "2", seq: 3 } });
  store.apply(5, { kind: "transition", key: "web-1", to: "Stopped", expect: "Init", session: { clientId: "1", seq: 2 } });
  store.apply(6, { kind: "delete", key: "web-3", session: { clientId: "1", seq: 3 } });
  store.apply(8, { kind: "noop" });
  return store;
}

function restored(definition: Definition, bytes: Uint8Array): Store {
  const result = Store.restore(definition, bytes);
  if (!result.ok) throw new Error(`restore failed: ${result.reason}: ${result.detail}`);
  return result.store;
}

function contentOf(store: Store): SnapshotContent {
  const text = new TextDecoder().decode(store.snapshot());
  const { body } = JSON.parse(text) as { body: SnapshotContent & { format: number } };
  const { format: _format, ...content } = body;
  return content;
}

describe("snapshot and restore", () => {
  it("round-trips to identical bytes and identical reads", () => {
    const store = sampleStore();
    const bytes = store.snapshot();
    const copy = restored(lifecycleDefinition, bytes);
    expect(copy.snapshot()).toEqual(bytes);
    expect(copy.appliedIndex).toBe(8);
    expect(copy.members).toEqual(["n1", "n2", "n3"]);
    expect(copy.entries()).toEqual(store.entries());
    expect(copy.sessionWindowSeqs).toBe(16);
    expect(copy.sessionsMax).toBe(4);
    copy.assertInvariants();
  });

  it("keeps session answers: a retry after restore gets the first answer", () => {
    const store = sampleStore();
    const copy = restored(lifecycleDefinition, store.snapshot());
    const retry = { kind: "transition", key: "web-1", to: "Running", session: { clientId: "1", seq: 1 } } as const;
    expect(copy.apply(9, retry)).toEqual({ ok: true, kind: "transition", key: "web-1", from: "Init", to: "Running", revision: 3 });
    expect(copy.get("web-1")).toEqual({ state: "Running", revision: 3 });
    // The same request id with another command is still recognised after a restore.
    const reused = { kind: "transition", key: "web-9", to: "Running", session: { clientId: "1", seq: 1 } } as const;
    expect(copy.apply(10, reused)).toMatchObject({ code: "request_id_reused" });
    expect(copy.stateBytes).toBe(store.stateBytes);
  });

  it("is one readable JSON document", () => {
    const parsed = JSON.parse(new TextDecoder().decode(sampleStore().snapshot())) as { crc32: string; body: { appliedIndex: number } };
    expect(parsed.crc32).toMatch(/^[0-9a-f]{8}$/);
    expect(parsed.body.appliedIndex).toBe(8);
  });

  it("reports a flipped byte in the body as checksum_mismatch", () => {
    const bytes = sampleStore().snapshot();
    const middle = Math.floor(bytes.length / 2);
    const damaged = bytes.slice();
    damaged[middle]! ^= 0x01;
    expect(Store.restore(lifecycleDefinition, damaged)).toMatchObject({ ok: false, reason: "checksum_mismatch" });
  });

  it("refuses a flip of any byte anywhere, without throwing", () => {
    const bytes = sampleStore().snapshot();
    for (let offset = 0; offset < bytes.length; offset++) {
      const damaged = bytes.slice();
      damaged[offset]! ^= 0x20;
      const result = Store.restore(lifecycleDefinition, damaged);
      expect(result.ok, `offset ${offset}`).toBe(false);
      if (!result.ok) expect(["checksum_mismatch", "malformed"]).toContain(result.reason);
    }
  });

  it("reports a store kept under another definition as definition_mismatch", () => {
    const other: Definition = { ...lifecycleDefinition, transitions: [...lifecycleDefinition.transitions, { from: "Running", to: "Init" }] };
    const result = Store.restore(other, sampleStore().snapshot());
    expect(result).toMatchObject({ ok: false, reason: "definition_mismatch" });
  });

  it("reports a torn write (the last byte lost) as checksum_mismatch", () => {
    const bytes = sampleStore().snapshot();
    expect(Store.restore(lifecycleDefinition, bytes.subarray(0, bytes.length - 1))).toMatchObject({ reason: "checksum_mismatch" });
  });

  it("reports empty, header-only and foreign bytes as malformed", () => {
    const bytes = sampleStore().snapshot();
    expect(Store.restore(lifecycleDefinition, new Uint8Array())).toMatchObject({ reason: "malformed" });
    expect(Store.restore(lifecycleDefinition, bytes.subarray(0, 20))).toMatchObject({ reason: "malformed" });
    expect(Store.restore(lifecycleDefinition, new TextEncoder().encode('{"hello":"world"}'))).toMatchObject({ reason: "malformed" });
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expect(Store.restore(lifecycleDefinition, bytes).ok).toBe(false);
      }),
    );
  });

  describe("refuses a correctly checksummed but inconsistent body as malformed", () => {
    const base = contentOf(sampleStore());
    const cases: [string, Partial<SnapshotContent>][] = [
      ["a machine in an unknown state", { machines: [["web-1", "Paused", 1]] }],
      ["a revision beyond the applied index", { machines: [["web-1", "Running", 9]] }],
      ["unsorted machines", { machines: [["b", "Running", 1], ["a", "Running", 2]] }],
      ["more sessions than sessionsMax", { limits: { ...base.limits, sessionsMax: 1 } }],
      ["a session idle beyond sessionIdleEntriesMax", { limits: { ...base.limits, sessionIdleEntriesMax: 1 } }],
      ["a zero keysMax", { limits: { ...base.limits, keysMax: 0 } }],
      ["a session active before its registration", { sessions: [{ ...base.sessions[0]!, clientId: "7" }, base.sessions[1]!] }],
      ["sessions out of activity order", { sessions: [...base.sessions].reverse() }],
      ["a session missing its highest seq's answer", { sessions: [{ ...base.sessions[0]!, highestSeq: 9 }] }],
      ["a session answer outside the window", { limits: { ...base.limits, sessionWindowSeqs: 1 } }],
      ["a negative applied index", { appliedIndex: -1 }],
    ];
    for (const [name, change] of cases) {
      it(name, () => {
        const bytes = encodeSnapshot({ ...base, ...change });
        const result = Store.restore(lifecycleDefinition, bytes);
        expect(result).toMatchObject({ ok: false, reason: "malformed" });
      });
    }

    it("(and accepts the unchanged base, so that the cases above test what they name)", () => {
      expect(Store.restore(lifecycleDefinition, encodeSnapshot(base)).ok).toBe(true);
      expect(base.definitionHash).toBe(definitionHash(lifecycleDefinition));
    });
  });
});
