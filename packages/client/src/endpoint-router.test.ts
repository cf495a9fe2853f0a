import { describe, expect, it } from "vitest";
import { EndpointRouter } from "./endpoint-router.js";

const status = {
  self: "n2",
  leader: "n3",
  term: 4,
  commitIndex: 9,
  appliedIndex: 9,
  members: ["n1", "n2", "n3"].map((id, index) => ({
    id,
    peerAddress: `127.0.0.1:740${index + 1}`,
    clientUrl: `http://127.0.0.1:840${index + 1}/`,
    role: id === "n3" ? ("leader" as const) : ("follower" as const),
    voter: true,
    matchIndex: null,
    lag: null,
  })),
};

describe("EndpointRouter", () => {
  it("puts the leader first, once, and forgets it when it fails", () => {
    const router = new EndpointRouter(["http://127.0.0.1:8401", "http://127.0.0.1:8403"]);
    router.noteCluster(status);
    expect(router.candidates()).toEqual(["http://127.0.0.1:8403", "http://127.0.0.1:8401"]);
    router.forgetLeader("http://127.0.0.1:8403");
    expect(router.leaderUrl).toBeUndefined();
    expect(router.candidates()).toEqual(["http://127.0.0.1:8401", "http://127.0.0.1:8403"]);
  });

  it("learns a leader it has no URL for only after a cluster answer", () => {
    const router = new EndpointRouter(["http://127.0.0.1:8401"]);
    expect(router.noteLeaderId("n2")).toBeUndefined();
    router.noteCluster({ ...status, leader: null });
    expect(router.noteLeaderId("n2")).toBe("http://127.0.0.1:8402");
    expect(router.pick(new Set(["http://127.0.0.1:8402"]))).toBe("http://127.0.0.1:8401");
  });

  it("never follows a leader hint from https to http", () => {
    const router = new EndpointRouter(["https://127.0.0.1:8401"]);
    router.noteCluster(status);
    expect(router.leaderUrl).toBeUndefined();
    expect(router.candidates()).toEqual(["https://127.0.0.1:8401"]);
    const secure = { ...status, members: status.members.map((member) => ({ ...member, clientUrl: member.clientUrl.replace("http:", "https:") })) };
    router.noteCluster(secure);
    expect(router.leaderUrl).toBe("https://127.0.0.1:8403");
  });
});
