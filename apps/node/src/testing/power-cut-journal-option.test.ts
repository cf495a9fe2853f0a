import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PowerCutFileSystem } from "@lockstep/storage";
import { afterAll, describe, expect, it } from "vitest";
import { powerCutJournalOption, powerCutJournalVariable } from "./power-cut-journal-option.js";

const root = mkdtempSync(join(tmpdir(), "lockstep-power-cut-option-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const loopback = { peerListen: { host: "127.0.0.1", port: 7401 }, clientListen: { host: "localhost", port: 8401 } };

describe(`${powerCutJournalVariable} (test only)`, () => {
  it("leaves storage on node:fs when unset or empty", () => {
    expect(powerCutJournalOption({}, loopback)).toEqual({ ok: true, fileSystem: undefined, journalPath: null });
    expect(powerCutJournalOption({ [powerCutJournalVariable]: "" }, loopback)).toEqual({ ok: true, fileSystem: undefined, journalPath: null });
  });

  it("puts storage on the power-cut journal when set with loopback listeners", () => {
    const journalPath = join(root, "journal-a");
    const option = powerCutJournalOption({ [powerCutJournalVariable]: journalPath }, loopback);
    expect(option.ok && option.fileSystem).toBeInstanceOf(PowerCutFileSystem);
  });

  it("refuses, naming the listener, when either listener is reachable from another machine", () => {
    const journalPath = join(root, "journal-b");
    const peer = powerCutJournalOption({ [powerCutJournalVariable]: journalPath }, { ...loopback, peerListen: { host: "0.0.0.0", port: 7401 } });
    expect(peer).toEqual({ ok: false, message: expect.stringMatching(/peerListenAddress 0\.0\.0\.0:7401 is not a loopback address; refusing to start/) });
    const client = powerCutJournalOption({ [powerCutJournalVariable]: journalPath }, { ...loopback, clientListen: { host: "10.1.2.3", port: 8401 } });
    expect(client).toEqual({ ok: false, message: expect.stringMatching(/clientListenAddress 10\.1\.2\.3:8401 is not a loopback address/) });
  });

  it("refuses a journal that no power cut has consumed", () => {
    const journalPath = join(root, "journal-c");
    writeFileSync(journalPath, "left over");
    expect(powerCutJournalOption({ [powerCutJournalVariable]: journalPath }, loopback)).toEqual({ ok: false, message: expect.stringMatching(/not empty: run cutPower/) });
  });
});
