import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileStorage } from "./file-storage.js";
import { StorageError } from "./storage-error.js";
import { TemporaryDirectories } from "./testing/temporary-directory.js";

const directories = new TemporaryDirectories();
afterEach(() => directories.removeAll());

describe("data directory lock", () => {
  it("refuses a second FileStorage on a directory that is open, and allows it after close", async () => {
    const directory = await directories.create();
    const first = await FileStorage.open({ directory });
    const refused = await FileStorage.open({ directory }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StorageError);
    expect((refused as StorageError).code).toBe("locked");
    await first.close();
    const second = await FileStorage.open({ directory });
    await second.close();
  });

  it("refuses a directory whose lock names a live process", async () => {
    const directory = await directories.create();
    await (await FileStorage.open({ directory })).close();
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10000)"], { stdio: "ignore" });
    try {
      await writeFile(join(directory, "LOCK"), `${holder.pid}\n`);
      const refused = await FileStorage.open({ directory }).catch((error: unknown) => error);
      expect((refused as StorageError).code).toBe("locked");
      expect((refused as StorageError).message).toContain(String(holder.pid));
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("takes over a lock left by a process that died", async () => {
    const directory = await directories.create();
    await (await FileStorage.open({ directory })).close();
    const dead = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((resolve) => dead.on("exit", resolve));
    await writeFile(join(directory, "LOCK"), `${dead.pid}\n`);
    const storage = await FileStorage.open({ directory });
    expect((await readFile(join(directory, "LOCK"), "utf8")).trim()).toBe(String(process.pid));
    await storage.close();
  });
});
