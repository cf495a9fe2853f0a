import { join } from "node:path";
import { possibleLossFileName, removeFile, syncDirectory, writeFileAtomically } from "./data-directory.js";
import type { FileSystem } from "./file-system.js";
import { storageErrorFromSystem } from "./storage-error.js";

/** Damage cut from the end of the log that recovery could not prove had never been synced. */
export interface PossibleLoss {
  file: string;
  offset: number;
  detail: string;
}

/**
 * Makes a possible loss durable before recovery cuts the damage that shows it: once the damage is
 * cut, nothing in the log says anything was lost, so a process that dies before the new segment
 * (whose header carries `recovering`) is durable would otherwise start next time with a log it
 * believes complete, and vote with it.
 */
export async function recordPossibleLoss(fs: FileSystem, directory: string, loss: PossibleLoss): Promise<void> {
  const bytes = Buffer.from(`${JSON.stringify(loss)}\n`, "utf8");
  await writeFileAtomically(fs, directory, possibleLossFileName, bytes, true);
}

/**
 * The loss an earlier start recorded and did not live to hand over to the log. The file's
 * existence is what counts: content that does not parse (it is written atomically, so only rot
 * makes it so) still reports a loss, with what could be read.
 */
export async function readRecordedPossibleLoss(fs: FileSystem, directory: string): Promise<PossibleLoss> {
  const path = join(directory, possibleLossFileName);
  const bytes = await fs.readFile(path).catch((error: unknown) => {
    throw storageErrorFromSystem(error, path, "cannot read the record of a possible loss");
  });
  const text = Buffer.from(bytes).toString("utf8");
  const parsed = parseLoss(text);
  return parsed ?? { file: path, offset: 0, detail: `recorded by an earlier start (unreadable record: ${JSON.stringify(text.slice(0, 80))})` };
}

/** Called once the log itself holds the loss (a durable segment header with `recovering`). */
export async function clearRecordedPossibleLoss(fs: FileSystem, directory: string): Promise<void> {
  await removeFile(fs, join(directory, possibleLossFileName));
  await syncDirectory(fs, directory);
}

function parseLoss(text: string): PossibleLoss | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { file, offset, detail } = value as Record<string, unknown>;
  if (typeof file !== "string" || typeof offset !== "number" || typeof detail !== "string") return null;
  return { file, offset, detail };
}
