import WebSocket from "ws";
import { processCpuMs } from "./process-cpu.js";

/**
 * What an open dashboard and a listing page cost a node at a given number of keys (issue 13
 * point 4: "feeds and listings send what changed, page the rest, and their cost is in the
 * curves"): the leader's CPU with no load and no dashboard, then with `feeds` dashboards open on
 * `/v1/dashboard-feed`, the bytes each feed receives per second, and the time of a
 * `GET /v1/machines?limit=100` page, the first one after the keys were written and the next.
 */
export interface DashboardCost {
  feeds: number;
  /** Leader CPU in percent of one core while idle: no client load, no dashboard. */
  idleCpuPercent: number | null;
  /** The same with `feeds` dashboards open. */
  feedsCpuPercent: number | null;
  /** Bytes one dashboard received per second, averaged over the feeds. */
  feedBytesPerSecond: number;
  /** `GET /v1/machines?limit=100`: the first page after the fill (the store merges the new keys into its index), then the next one. */
  firstPageMs: number | null;
  warmPageMs: number | null;
}

/** A feed that has not opened within this long is counted as not opened (the figures say how many did). */
const feedOpenMs = 10_000;
/** A listing page that has not answered within this long is reported as null. */
const pageTimeoutMs = 30_000;

export async function measureDashboardCost(leaderUrl: URL, leaderPid: number | null, feeds: number, seconds: number): Promise<DashboardCost> {
  const firstPageMs = await timePage(leaderUrl);
  const warmPageMs = await timePage(leaderUrl);
  const idleCpuPercent = await cpuPercentOver(leaderPid, seconds);
  const feedUrl = new URL("/v1/dashboard-feed", leaderUrl);
  feedUrl.protocol = leaderUrl.protocol === "https:" ? "wss:" : "ws:";
  const sockets: WebSocket[] = [];
  const received: number[] = [];
  try {
    for (let index = 0; index < feeds; index++) {
      const socket = new WebSocket(feedUrl, { maxPayload: 16 * 1024 * 1024 });
      received.push(0);
      socket.on("message", (data: Buffer) => {
        received[index] = (received[index] ?? 0) + data.byteLength;
      });
      socket.on("error", () => socket.terminate());
      sockets.push(socket);
    }
    const opened = await Promise.all(sockets.map((socket) => opens(socket)));
    // The first message of a feed is its full picture; the steady cost is what follows.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const before = received.slice();
    const feedsCpuPercent = await cpuPercentOver(leaderPid, seconds);
    const openCount = opened.filter(Boolean).length;
    const bytes = received.reduce((sum, value, index) => sum + (opened[index] === true ? value - (before[index] ?? 0) : 0), 0);
    return { feeds: openCount, idleCpuPercent, feedsCpuPercent, feedBytesPerSecond: openCount === 0 ? 0 : bytes / openCount / seconds, firstPageMs, warmPageMs };
  } finally {
    for (const socket of sockets) socket.terminate();
  }
}

function opens(socket: WebSocket): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), feedOpenMs);
    socket.once("open", () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

async function cpuPercentOver(pid: number | null, seconds: number): Promise<number | null> {
  if (pid === null) return null;
  const before = processCpuMs(pid);
  const startedMs = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = processCpuMs(pid);
  if (before === null || after === null) return null;
  return ((after.userMs + after.systemMs - before.userMs - before.systemMs) / (performance.now() - startedMs)) * 100;
}

async function timePage(leaderUrl: URL): Promise<number | null> {
  const startedMs = performance.now();
  try {
    const response = await fetch(new URL("/v1/machines?limit=100", leaderUrl), { signal: AbortSignal.timeout(pageTimeoutMs) });
    await response.arrayBuffer();
    return response.ok ? performance.now() - startedMs : null;
  } catch {
    return null;
  }
}
