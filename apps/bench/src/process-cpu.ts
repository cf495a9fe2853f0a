import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc's utime and stime (`getconf CLK_TCK`; 100 on every Linux we know). */
let clockTicksPerSecond: number | null = null;

function ticksPerSecond(): number {
  if (clockTicksPerSecond !== null) return clockTicksPerSecond;
  try {
    const parsed = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    clockTicksPerSecond = Number.isInteger(parsed) && parsed > 0 ? parsed : 100;
  } catch {
    clockTicksPerSecond = 100;
  }
  return clockTicksPerSecond;
}

/**
 * Parses one `/proc/PID/stat` line into user + system CPU milliseconds, or null when the line
 * is not one. The command name (field 2) is in parentheses and may itself hold spaces and
 * parentheses, so the fields are counted from the LAST `)`.
 */
export function parseProcStatCpuMs(line: string, ticksPerSecondValue: number): CpuTimesMs | null {
  const end = line.lastIndexOf(")");
  if (end < 0) return null;
  // After ")": field 3 (state) is at position 0, so utime (field 14) is at 11 and stime (15) at 12.
  const fields = line.slice(end + 2).split(" ");
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  if (!Number.isFinite(userTicks) || !Number.isFinite(systemTicks)) return null;
  return { userMs: (userTicks * 1000) / ticksPerSecondValue, systemMs: (systemTicks * 1000) / ticksPerSecondValue };
}

/** CPU a process used, split: user (its own code) and system (the kernel on its behalf: sockets, fsync). */
export interface CpuTimesMs {
  userMs: number;
  systemMs: number;
}

/** CPU milliseconds (user and system) a live process has used so far, or null if it is gone or this is not Linux. */
export function processCpuMs(pid: number): CpuTimesMs | null {
  try {
    return parseProcStatCpuMs(readFileSync(`/proc/${pid}/stat`, "utf8"), ticksPerSecond());
  } catch {
    return null;
  }
}

/** `processCpuMs` summed over several processes; null if any one cannot be read. */
export function processesCpuMs(pids: readonly number[]): CpuTimesMs | null {
  const total = { userMs: 0, systemMs: 0 };
  for (const pid of pids) {
    const cpu = processCpuMs(pid);
    if (cpu === null) return null;
    total.userMs += cpu.userMs;
    total.systemMs += cpu.systemMs;
  }
  return total;
}
