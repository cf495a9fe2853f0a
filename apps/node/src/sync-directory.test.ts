import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { syncDirectorySync } from "./sync-directory.js";

describe("syncDirectorySync", () => {
  const made: string[] = [];
  afterEach(() => {
    for (const path of made.splice(0)) rmSync(path, { recursive: true, force: true });
  });

  it("syncs a directory and refuses a file with ENOTDIR", () => {
    const directory = mkdtempSync(join(tmpdir(), "lockstep-sync-"));
    made.push(directory);
    writeFileSync(join(directory, "file"), "x");
    expect(() => syncDirectorySync(directory)).not.toThrow();
    expect(() => syncDirectorySync(join(directory, "file"))).toThrow(/ENOTDIR/);
  });
});
