import { readFileSync } from "node:fs";

/** One line of a profile's "top functions by self time" table. */
export interface HotFunction {
  functionName: string;
  /** `file:line` (file shortened to its last two path segments), or the V8 category for native frames. */
  location: string;
  selfMs: number;
  selfPercent: number;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

/** Rows printed per profile: enough to see where the time goes without a viewer. */
export const hotFunctionsMax = 15;

/**
 * Self time per function from a V8 `.cpuprofile` (as `--cpu-prof` and the inspector write it):
 * each sample's time delta is charged to the node it landed in, then nodes are merged by
 * function and location. Returns null for a file that is not a profile.
 */
export function summarizeCpuProfile(text: string, rowsMax: number = hotFunctionsMax): { totalMs: number; rows: HotFunction[] } | null {
  const profile = parseProfile(text);
  if (profile === null) return null;
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const selfUsByNode = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let position = 0; position < samples.length; position++) {
    // A sample's delta is the time since the previous one; charge it to this sample's node.
    const id = samples[position]!;
    selfUsByNode.set(id, (selfUsByNode.get(id) ?? 0) + Math.max(0, deltas[position] ?? 0));
  }
  const totalUs = [...selfUsByNode.values()].reduce((sum, value) => sum + value, 0);
  const byFunction = new Map<string, HotFunction>();
  for (const [id, selfUs] of selfUsByNode) {
    const frame = byNode.get(id)?.callFrame;
    if (frame === undefined) continue;
    const functionName = frame.functionName === "" ? "(anonymous)" : frame.functionName;
    const location = frame.url === "" ? "" : `${shortenUrl(frame.url)}:${frame.lineNumber + 1}`;
    const key = `${functionName}@${location}`;
    const row = byFunction.get(key) ?? { functionName, location, selfMs: 0, selfPercent: 0 };
    row.selfMs += selfUs / 1000;
    byFunction.set(key, row);
  }
  const rows = [...byFunction.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, rowsMax);
  for (const row of rows) row.selfPercent = totalUs === 0 ? 0 : (row.selfMs * 1000 * 100) / totalUs;
  return { totalMs: totalUs / 1000, rows };
}

export function summarizeCpuProfileFile(path: string, rowsMax?: number): { totalMs: number; rows: HotFunction[] } | null {
  try {
    return summarizeCpuProfile(readFileSync(path, "utf8"), rowsMax);
  } catch {
    return null;
  }
}

function parseProfile(text: string): CpuProfile | null {
  try {
    const value = JSON.parse(text) as Partial<CpuProfile>;
    return Array.isArray(value.nodes) && typeof value.startTime === "number" ? (value as CpuProfile) : null;
  } catch {
    return null;
  }
}

/** `file:///…/packages/consensus/dist/raft-core.js` -> `consensus/dist/raft-core.js`; `node:…` as is; else the last two segments. */
function shortenUrl(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  const workspace = /\/(?:packages|apps)\/(.+)$/.exec(path);
  if (workspace !== null && !path.includes("/node_modules/")) return workspace[1]!;
  if (path.startsWith("node:")) return path;
  return path.split("/").slice(-2).join("/");
}
