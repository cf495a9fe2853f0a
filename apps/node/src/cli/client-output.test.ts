import { LockstepError, type ClusterStatus } from "@lockstep/client";
import { describe, expect, it } from "vitest";
import { errorJson, formatError, formatMachine, formatStatus, formatTable, formatTransition, formatWatchEvent } from "./client-output.js";
import { buildStatusReport } from "./status-rows.js";

function view(self: string, overrides: Partial<ClusterStatus> = {}): ClusterStatus {
  const isLeader = self === "n1";
  return {
    self,
    leader: "n1",
    term: 3,
    commitIndex: 12,
    appliedIndex: self === "n2" ? 11 : 12,
    members: ["n1", "n2", "n3"].map((id, index) => ({
      id,
      peerAddress: `127.0.0.1:740${index + 1}`,
      clientUrl: `http://127.0.0.1:840${index + 1}`,
      role: id === "n1" ? ("leader" as const) : ("follower" as const),
      voter: true,
      matchIndex: isLeader ? 12 - index : null,
      lag: isLeader ? index : null,
    })),
    ...overrides,
  };
}

describe("status", () => {
  it("shows each member's own view, the leader's lag, the leader marked and unreachable members", () => {
    const report = buildStatusReport(view("n2"), new Map([["n1", view("n1")], ["n2", view("n2")], ["n3", undefined]]));
    expect(formatStatus(report)).toBe(
      [
        "leader n1, term 3",
        "",
        "NODE  ROLE         TERM  COMMIT  APPLIED  LAG  CLIENT URL",
        "n1 *  leader       3     12      12       0    http://127.0.0.1:8401",
        "n2    follower     3     12      11       1    http://127.0.0.1:8402",
        "n3    unreachable  -     -       -        2    http://127.0.0.1:8403",
        "",
      ].join("\n"),
    );
  });

  it("says when no leader is known, and shows no lag without one", () => {
    const noLeader = view("n2", { leader: null });
    const report = buildStatusReport(noLeader, new Map([["n2", noLeader]]));
    expect(formatStatus(report).split("\n")[0]).toBe("no leader known (term 3)");
    expect(report.members.every((member) => member.lag === null && !member.isLeader)).toBe(true);
  });

  it("pads columns to the widest cell", () => {
    expect(formatTable(["A", "B"], [["long", "x"], ["s", "yy"]])).toBe("A     B\nlong  x\ns     yy\n");
  });
});

describe("one-line outputs", () => {
  it("formats a machine, a transition and a watch event", () => {
    expect(formatMachine({ key: "web-1", state: "Running", revision: 7 })).toBe("web-1: Running (revision 7)\n");
    expect(formatTransition({ key: "web-1", from: "Init", to: "Running", revision: 8 })).toBe("web-1: Init -> Running (revision 8)\n");
    expect(formatWatchEvent({ type: "transition", key: "web-1", from: "Init", to: "Running", revision: 8 })).toBe("#8 web-1: Init -> Running\n");
  });
});

describe("errors", () => {
  it("names the allowed states of an invalid transition", () => {
    const error = new LockstepError("invalid_transition", "cannot go from Init to Stopped", {
      status: 409,
      details: { from: "Init", to: "Stopped", allowed: ["Running"] },
    });
    expect(formatError(error)).toBe("lockstep: refused (invalid_transition): cannot go from Init to Stopped; allowed from Init: Running\n");
    expect(errorJson(error)).toEqual({
      error: { code: "invalid_transition", message: "cannot go from Init to Stopped", status: 409, outcomeUnknown: false, from: "Init", to: "Stopped", allowed: ["Running"] },
    });
  });

  it("warns that an unavailable transition may have been applied", () => {
    const error = new LockstepError("unavailable", "gave up after 6 attempts", { outcomeUnknown: true });
    expect(formatError(error)).toMatch(/^lockstep: cluster unavailable: gave up after 6 attempts\noutcome unknown: /);
  });
});
