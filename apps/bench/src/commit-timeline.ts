import type { TimelineEventKind } from "./commit-timeline-hooks.js";

/** One recorded event of one process (`commit-timeline-hooks.ts`), its time in nanoseconds of CLOCK_MONOTONIC. */
export interface TimelineEvent {
  ns: number;
  pid: number;
  kind: TimelineEventKind;
  /** Local port (socket events) or file descriptor (log and fsync events). */
  first: number;
  /** Remote port (socket events); 0 otherwise. */
  second: number;
  bytes: number;
}

const eventKinds: ReadonlySet<string> = new Set<TimelineEventKind>(["socket_write", "socket_read", "log_write", "fsync_start", "fsync_end"]);

/** One process's `<pid>.timeline` file; lines it does not understand are refused by count, not guessed. */
export function parseTimeline(text: string, pid: number): { events: TimelineEvent[]; dropped: number; unreadable: number } {
  const events: TimelineEvent[] = [];
  let dropped = 0;
  let unreadable = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const droppedLine = /^# dropped (\d+)$/.exec(line);
    if (droppedLine !== null) {
      dropped += Number(droppedLine[1]);
      continue;
    }
    const [ns, kind, first, second, bytes] = line.split(" ");
    const values = [ns, first, second, bytes].map(Number);
    if (kind === undefined || !eventKinds.has(kind) || values.some((value) => !Number.isFinite(value))) {
      unreadable += 1;
      continue;
    }
    events.push({ ns: values[0]!, pid, kind: kind as TimelineEventKind, first: values[1]!, second: values[2]!, bytes: values[3]! });
  }
  return { events, dropped, unreadable };
}

export interface TimelineRow {
  /** What happened, by role: `leader writes to n3`, `n3 fdatasync ends`, with `#2` for a second time in one request. */
  label: string;
  /** Median time from the client's write of the request, in microseconds. */
  medianOffsetUs: number;
  /** Requests in which it happened. */
  requests: number;
}

export interface TimelineAnalysis {
  /** Requests analysed: from one client write to the client's next read. */
  requests: number;
  /** Median time from the client's write to its read of the answer, in microseconds. */
  medianRequestUs: number;
  /** Every step seen in at least `presentFraction` of the requests, by median offset. */
  rows: TimelineRow[];
}

export interface TimelineInput {
  events: readonly TimelineEvent[];
  /** The load generator's process: its socket writes start a request, its reads end one. */
  clientPid: number;
  /** A name per process (`client`, `leader`, a follower's id). */
  roles: ReadonlyMap<number, string>;
  /** Requests at the start left out (warm-up). Default 0. */
  skipRequests?: number;
  /** A step is reported only if seen in this share of the requests. Default 0.8. */
  presentFraction?: number;
}

/**
 * Lines up the processes' events into one timeline per request (at one client, one request is in
 * flight at a time, so every event between the client's write and its next read belongs to it),
 * names each event by process and peer, and reports the median offset of each step. The peer of
 * a socket event is the process that owns its remote port (each port is local to one process).
 */
export function analyzeTimeline(input: TimelineInput): TimelineAnalysis {
  const events = [...input.events].sort((left, right) => left.ns - right.ns);
  const portOwner = new Map<number, number>();
  for (const event of events) if (event.kind === "socket_write" || event.kind === "socket_read") portOwner.set(event.first, event.pid);
  const roleOf = (pid: number | undefined): string => (pid === undefined ? "outside" : (input.roles.get(pid) ?? `pid ${pid}`));
  const labelOf = (event: TimelineEvent): string => {
    const role = roleOf(event.pid);
    switch (event.kind) {
      case "socket_write":
        return `${role} writes to ${roleOf(portOwner.get(event.second))}`;
      case "socket_read":
        return `${role} reads from ${roleOf(portOwner.get(event.second))}`;
      case "log_write":
        return `${role} log write`;
      case "fsync_start":
        return `${role} fdatasync starts`;
      case "fsync_end":
        return `${role} fdatasync ends`;
    }
  };

  const offsets = new Map<string, number[]>();
  const durations: number[] = [];
  let open: { startNs: number; seen: Map<string, number> } | null = null;
  let requestsSeen = 0;
  const skip = input.skipRequests ?? 0;
  for (const event of events) {
    const isClient = event.pid === input.clientPid;
    if (isClient && event.kind === "socket_write") {
      if (open === null) open = { startNs: event.ns, seen: new Map() };
      continue;
    }
    if (open === null) continue;
    if (isClient && event.kind === "socket_read") {
      requestsSeen += 1;
      if (requestsSeen > skip) {
        durations.push((event.ns - open.startNs) / 1000);
        for (const [label, offsetUs] of open.seen) {
          let list = offsets.get(label);
          if (list === undefined) offsets.set(label, (list = []));
          list.push(offsetUs);
        }
      }
      open = null;
      continue;
    }
    const base = labelOf(event);
    let label = base;
    for (let occurrence = 2; open.seen.has(label); occurrence += 1) label = `${base} #${occurrence}`;
    open.seen.set(label, (event.ns - open.startNs) / 1000);
  }
  const requests = durations.length;
  const presentFraction = input.presentFraction ?? 0.8;
  const rows: TimelineRow[] = [];
  for (const [label, list] of offsets) {
    if (list.length < requests * presentFraction) continue;
    rows.push({ label, medianOffsetUs: median(list), requests: list.length });
  }
  rows.sort((left, right) => left.medianOffsetUs - right.medianOffsetUs);
  return { requests, medianRequestUs: requests === 0 ? Number.NaN : median(durations), rows };
}

/** The analysis as a markdown table: each step's median offset and the step from the row before. */
export function timelineMarkdown(analysis: TimelineAnalysis): string {
  const lines = ["| µs from the request | step µs | what (median over requests) | requests |", "|---:|---:|---|---:|", "| 0 | | client writes the request | |"];
  let previous = 0;
  for (const row of analysis.rows) {
    lines.push(`| ${row.medianOffsetUs.toFixed(0)} | ${(row.medianOffsetUs - previous).toFixed(0)} | ${row.label} | ${row.requests} |`);
    previous = row.medianOffsetUs;
  }
  lines.push(`| ${analysis.medianRequestUs.toFixed(0)} | ${(analysis.medianRequestUs - previous).toFixed(0)} | client reads the answer (median of the whole request) | ${analysis.requests} |`);
  return `${lines.join("\n")}\n`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
