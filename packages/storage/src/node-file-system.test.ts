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
