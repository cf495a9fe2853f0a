import { describe, expect, it } from "vitest";
import { decodeBackup, encodeBackup, type BackupHeader } from "./backup-file.js";

const header: Omit<BackupHeader, "dataBytes"> = {
  cluster: "prod",
  clusterUuid: "6f1c2a3e-8d4b-4c2a-9f00-0123456789ab",
  index: 42,
  members: [{ id: "n1", peerAddress: "10.0.0.1:7401", clientUrl: "http://10.0.0.1:8401", voter: true }],
  takenBy: "n1",
  takenAtMs: 1_700_000_000_000,
  definitionHash: "d".repeat(64),
  definition: { name: "lifecycle" },
};
const data = new TextEncoder().encode('{"crc32":"00000000","body":{}}');

describe("backup files", () => {
  it("round-trips header and data", () => {
    const decoded = decodeBackup(encodeBackup(header, data));
    expect(decoded).toEqual({ ok: true, header: { ...header, dataBytes: data.length }, data });
  });

  it("refuses every single flipped byte, and a truncated file, without throwing", () => {
    const bytes = encodeBackup(header, data);
    for (let offset = 0; offset < bytes.length; offset++) {
      const damaged = new Uint8Array(bytes);
      damaged[offset] = damaged[offset]! ^ 0x01;
      expect(decodeBackup(damaged).ok, `flip at ${offset}`).toBe(false);
    }
    for (const length of [0, 5, 30, bytes.length - 1]) expect(decodeBackup(bytes.subarray(0, length)).ok).toBe(false);
  });

  it("names what is wrong", () => {
    expect(decodeBackup(new TextEncoder().encode("hello world, this is not a lockstep backup at all, not even close to one............"))).toMatchObject({ ok: false, reason: "not_a_backup" });
    const bytes = encodeBackup(header, data);
    const damaged = new Uint8Array(bytes);
    damaged[40] = damaged[40]! ^ 0x02;
    expect(decodeBackup(damaged)).toMatchObject({ ok: false, reason: "checksum_mismatch" });
  });
});
