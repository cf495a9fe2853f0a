import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The layout of a certs directory, as `cockroach cert` keeps it: the CA certificate (or the
 * rotation bundle) in `ca.crt`, one node's certificate and key in `node.crt` / `node.key`, and
 * client certificates in `client.<name>.crt` / `.key`. The CA key lives outside it.
 */
export const certsFileNames = {
  ca: "ca.crt",
  nodeCert: "node.crt",
  nodeKey: "node.key",
  clientCert: (name: string) => `client.${name}.crt`,
  clientKey: (name: string) => `client.${name}.key`,
} as const;

export class CertsFileError extends Error {
  override readonly name = "CertsFileError";
  constructor(
    readonly code: "exists" | "write_failed" | "read_failed",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type PlannedFile = { path: string; text: string; secret: boolean };

/**
 * Writes every file or none: existing files are refused before anything is written (unless
 * `overwrite`), and each file is written to a temporary name and renamed, so a node that reloads
 * on change never reads half a file. Keys are mode 0600, certificates 0644.
 */
export function writeFilesAtomically(files: readonly PlannedFile[], overwrite: boolean): void {
  if (!overwrite) {
    const existing = files.filter((file) => existsSync(file.path));
    if (existing.length > 0) {
      throw new CertsFileError("exists", `${existing.map((file) => file.path).join(", ")} already exist(s); pass --overwrite to replace`);
    }
  }
  for (const file of files) {
    const temporary = `${file.path}.tmp-${process.pid}`;
    try {
      mkdirSync(dirname(file.path), { recursive: true });
      writeFileSync(temporary, file.text, { mode: file.secret ? 0o600 : 0o644, flag: "w" });
      renameSync(temporary, file.path);
    } catch (error) {
      throw new CertsFileError("write_failed", `cannot write ${file.path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}

export function readTextFile(path: string, role: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new CertsFileError("read_failed", `cannot read ${role} ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

export function certsPath(certsDirectory: string, name: string): string {
  return join(certsDirectory, name);
}
