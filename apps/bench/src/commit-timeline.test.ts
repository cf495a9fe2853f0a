import { describe, expect, it } from "vitest";
import { analyzeTimeline, parseTimeline, timelineMarkdown, type TimelineEvent } from "./commit-timeline.js";

const client = 1;
const leader = 2;
const follower = 3;
const roles = new Map([
  [client, "client"],
  [leader, "leader"],
  [follower, "n3"],
]);
// Ports: the client's socket 5000 <-> the leader's client port 8000; the leader's outbound 7001 <-> n3's peer port 9000.
type Step = [offsetUs: number, pid: number, kind: TimelineEvent["kind"], first: number, second: number];

/** One request whose steps happen `stretch` times later than in the first. */
function request(startUs: number, stretch: number, extra: Step[] = []): TimelineEvent[] {
  const steps: Step[] = [
    [0, client, "socket_write", 5000, 8000],
    [80, leader, "socket_read", 8000, 5000],
    [180, leader, "socket_write", 7001, 9000],
    [300, follower, "socket_read", 9000, 7001],
    [460, follower, "log_write", 17, 0],
    [480, follower, "fsync_start", 17, 0],
    [880, follower, "fsync_end", 17, 0],
    [920, follower, "socket_write", 9000, 7001],
    [1020, leader, "socket_read", 7001, 9000],
    [1170, leader, "socket_write", 8000, 5000],
    [1172, leader, "socket_write", 8000, 5000],
    [1280, client, "socket_read", 5000, 8000],
    ...extra,
  ];
  return steps.map(([offsetUs, pid, kind, first, second]) => ({ ns: (startUs + offsetUs * stretch) * 1000, pid, kind, first, second, bytes: 100 }));
}

describe("the commit timeline", () => {
  it("lines the processes up into one timeline per request, names each step by process and peer, and takes medians", () => {
    const events = [...request(0, 1), ...request(10_000, 2), ...request(20_000, 1.5), ...request(30_000, 1, [[500, follower, "log_write", 17, 0]])];
    // Shuffled as files from three processes would be: the analysis sorts by time.
    const analysis = analyzeTimeline({ events: events.reverse(), clientPid: client, roles, skipRequests: 1 });
    expect(analysis.requests).toBe(3);
    // The three analysed requests took 2560, 1920 and 1280 µs: the median is 1920.
    expect(analysis.medianRequestUs).toBe(1920);
    expect(analysis.rows.map((row) => row.label)).toEqual([
      "leader reads from client",
      "leader writes to n3",
      "n3 reads from leader",
      "n3 log write",
      "n3 fdatasync starts",
      "n3 fdatasync ends",
      "n3 writes to leader",
      "leader reads from n3",
      "leader writes to client",
      "leader writes to client #2",
    ]);
    expect(analysis.rows[0]).toEqual({ label: "leader reads from client", medianOffsetUs: 120, requests: 3 });
    // The second log write happened in one request of three: below the 80 % bar, left out.
    expect(analysis.rows.some((row) => row.label === "n3 log write #2")).toBe(false);
    expect(analyzeTimeline({ events, clientPid: client, roles, skipRequests: 1, presentFraction: 0.3 }).rows.some((row) => row.label === "n3 log write #2")).toBe(true);
    const table = timelineMarkdown(analysis);
    expect(table).toContain("| 120 | 120 | leader reads from client | 3 |");
    expect(table).toContain("client reads the answer (median of the whole request) | 3 |");
  });

  it("ignores what happens outside a request, and names a port it cannot place as outside", () => {
    const events: TimelineEvent[] = [
      { ns: 1_000, pid: follower, kind: "socket_write", first: 9000, second: 7001, bytes: 50 },
      { ns: 2_000, pid: client, kind: "socket_write", first: 5000, second: 8000, bytes: 50 },
      { ns: 3_000, pid: leader, kind: "socket_write", first: 8100, second: 65000, bytes: 50 },
      { ns: 4_000, pid: client, kind: "socket_read", first: 5000, second: 8000, bytes: 50 },
    ];
    const analysis = analyzeTimeline({ events, clientPid: client, roles });
    expect(analysis.rows).toEqual([{ label: "leader writes to outside", medianOffsetUs: 1, requests: 1 }]);
    expect(analysis.medianRequestUs).toBe(2);
  });

  it("parses a process's file, counting dropped events and refusing lines it cannot read", () => {
    const parsed = parseTimeline("100 socket_write 1 2 30\n200 fsync_end 17 0 0\n300 teleport 1 2 3\nnot a line\n# dropped 7\n", 42);
    expect(parsed.events).toEqual([
      { ns: 100, pid: 42, kind: "socket_write", first: 1, second: 2, bytes: 30 },
      { ns: 200, pid: 42, kind: "fsync_end", first: 17, second: 0, bytes: 0 },
    ]);
    expect(parsed.dropped).toBe(7);
    expect(parsed.unreadable).toBe(2);
  });
});
