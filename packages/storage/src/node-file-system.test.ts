// The production file system keeps the promises of the FileSystem interface that the simulated
// disk models, where a real machine lets a test check them: a directory sync opens the directory
// read-only and fsyncs it, and refuses what is not a directory as the simulated disk does.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { FileSystem } from "./file-system.js";
import { nodeFileSystem } from "./node-file-system.js";
import { SimulatedDisk } from "./simulated-disk.js";
import { seededRandom } from "./testing/seeded-random.js";
import { TemporaryDirectories } from "./testing/temporary-directory.js";

const directories = new TemporaryDirectories();
afterEach(() => directories.removeAll());

/** The system code a directory sync of `path` fails with, or "ok". */
async function syncOutcome(fileSystem: FileSystem, path: string): Promise<string> {
  return fileSystem.syncDirectory(path).then(
    () => "ok",
    (error: unknown) => String((error as { code?: unknown }).code),
  );
}

describe("nodeFileSystem.syncDirectory", () => {
  it("syncs a directory, and refuses a missing path (ENOENT) and a file (ENOTDIR), as the simulated disk does", async () => {
    const root = await directories.create();
    const file = join(root, "file");
    await writeFile(file, "x");
    const disk = new SimulatedDisk({ random: seededRandom(1) }).fileSystem();
    await disk.mkdir("/data");
    await (await disk.open("/data/file", "create")).close();
    expect({
      directory: await syncOutcome(nodeFileSystem, root),
      missing: await syncOutcome(nodeFileSystem, join(root, "missing")),
      file: await syncOutcome(nodeFileSystem, file),
    }).toEqual({
      directory: await syncOutcome(disk, "/data"),
      missing: await syncOutcome(disk, "/data/missing"),
      file: await syncOutcome(disk, "/data/file"),
    });
    expect(await syncOutcome(nodeFileSystem, root)).toBe("ok");
  });
});

describe("nodeFileSystem writes", () => {
  // Small writes are copied on the event loop, larger ones go through the pool; both keep the
  // interface's promise: bytes at the position asked, a failure as a rejection with its code.
  it("writes small and large buffers at their positions", async () => {
    const root = await directories.create();
    await writeFile(join(root, "log"), "");
    const handle = await nodeFileSystem.open(join(root, "log"), "readWrite");
    const small = new Uint8Array([1, 2, 3, 4]);
    const large = new Uint8Array(128 * 1024).fill(7);
    expect(await handle.write(large, 0, large.length, 4)).toMatchObject({ bytesWritten: large.length });
    expect(await handle.write(small, 1, 3, 0)).toMatchObject({ bytesWritten: 3 });
    await handle.datasync();
    const back = new Uint8Array(4 + large.length);
    expect(await handle.read(back, 0, back.length, 0)).toMatchObject({ bytesRead: back.length });
    await handle.close();
    expect([...back.subarray(0, 4)]).toEqual([2, 3, 4, 0]);
    expect(back.subarray(4).every((byte) => byte === 7)).toBe(true);
  });

  it("rejects (never throws) a write that fails, small or large, with the system's code", async () => {
    const root = await directories.create();
    await writeFile(join(root, "read-only"), "x");
    const handle = await nodeFileSystem.open(join(root, "read-only"), "read");
    for (const bytes of [8, 128 * 1024]) {
      let thrown: unknown;
      const written = (() => {
        try {
          return handle.write(new Uint8Array(bytes), 0, bytes, 0);
        } catch (error) {
          thrown = error;
          return undefined;
        }
      })();
      expect(thrown).toBeUndefined();
      await expect(written).rejects.toMatchObject({ code: "EBADF" });
    }
    await handle.close();
  });
});
