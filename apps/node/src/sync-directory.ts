import { closeSync, constants, fsyncSync, openSync } from "node:fs";

/**
 * Makes the creates, renames and removals in `directory` durable (fsync of the directory, opened
 * read-only with O_DIRECTORY so that a file is refused with ENOTDIR). A rename is only undone-proof
 * after this: a power cut may otherwise bring back the old name.
 */
export function syncDirectorySync(directory: string): void {
  const descriptor = openSync(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}
