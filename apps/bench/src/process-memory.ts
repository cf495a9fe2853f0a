import { readFileSync } from "node:fs";

/** A process's resident set size in bytes from `/proc/PID/status` (`VmRSS`), or null if it is gone or this is not Linux. */
export function residentBytes(pid: number): number | null {
  try {
    return parseVmRssBytes(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return null;
  }
}

/** `VmRSS:  123456 kB` -> bytes; null when the line is missing. */
export function parseVmRssBytes(statusText: string): number | null {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(statusText);
  return match === null ? null : Number(match[1]) * 1024;
}
