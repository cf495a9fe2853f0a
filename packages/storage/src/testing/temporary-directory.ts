import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Fresh directories under the system temporary directory, all removed by `removeAll()`. */
export class TemporaryDirectories {
  private readonly created: string[] = [];

  async create(prefix = "lockstep-storage-"): Promise<string> {
    const directory = await mkdtemp(join(tmpdir(), prefix));
    this.created.push(directory);
    return directory;
  }

  async removeAll(): Promise<void> {
    for (const directory of this.created.splice(0)) await rm(directory, { recursive: true, force: true });
  }
}
