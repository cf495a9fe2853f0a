import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { describeProcess, parseLockHolder } from "./directory-lock.js";
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
    expect(parseLockHolder(await readFile(join(directory, "LOCK"), "utf8"))?.pid).toBe(process.pid);
    await storage.close();
  });

  /** A process that starts a child and never reaps it: once the child exits it is a zombie. */
  async function zombie(): Promise<{ zombiePid: number; parent: ChildProcess }> {
    const parent = spawn("sh", ["-c", "sleep 0.2 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
    const zombiePid = await new Promise<number>((resolvePid) => parent.stdout?.once("data", (chunk: Buffer) => resolvePid(Number(chunk.toString().trim()))));
    return { zombiePid, parent };
  }

  async function stateOf(pid: number): Promise<string> {
    const text = await readFile(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ")[0] ?? "";
  }

  it.runIf(process.platform === "linux")("takes over a lock held by a killed process its parent has not reaped yet (a zombie)", async () => {
    const directory = await directories.create();
    await (await FileStorage.open({ directory })).close();
    const { zombiePid, parent } = await zombie();
    try {
      const written = await describeProcess(zombiePid);
      for (let waitedMs = 0; (await stateOf(zombiePid)) !== "Z"; waitedMs += 20) {
        if (waitedMs > 5_000) throw new Error("the child did not become a zombie");
        await new Promise((resolveWait) => setTimeout(resolveWait, 20));
      }
      // As a lock of this version (pid, start time, boot) and of earlier ones (a bare pid) would name it.
      for (const lock of [JSON.stringify(written), String(zombiePid)]) {
        await writeFile(join(directory, "LOCK"), `${lock}\n`);
        const storage = await FileStorage.open({ directory });
        expect(parseLockHolder(await readFile(join(directory, "LOCK"), "utf8"))?.pid).toBe(process.pid);
        await storage.close();
      }
    } finally {
      parent.kill("SIGKILL");
    }
  });

  it.runIf(process.platform === "linux")("takes over a lock whose pid now belongs to another process (pid reuse), or to another boot", async () => {
    const directory = await directories.create();
    await (await FileStorage.open({ directory })).close();
    const unrelated = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const now = await describeProcess(unrelated.pid ?? 0);
      // The holder had this pid once, but started at another moment: the pid was reused.
      await writeFile(join(directory, "LOCK"), `${JSON.stringify({ ...now, startTime: String(Number(now.startTime) - 1) })}\n`);
      await (await FileStorage.open({ directory })).close();
      // The holder ran in another boot (a reboot, or another container's kernel view).
      await writeFile(join(directory, "LOCK"), `${JSON.stringify({ ...now, bootId: "00000000-0000-0000-0000-000000000000" })}\n`);
      await (await FileStorage.open({ directory })).close();
      // And the same process, same start, same boot: it holds the directory.
      await writeFile(join(directory, "LOCK"), `${JSON.stringify(now)}\n`);
      await expect(FileStorage.open({ directory })).rejects.toMatchObject({ code: "locked" });
    } finally {
      unrelated.kill("SIGKILL");
    }
  });
});
