import { describe, expect, it } from "vitest";
import { joinSelf } from "./join-self.js";

const founders = [
  { id: "n1", peerAddress: "10.0.0.11:7401", clientUrl: "http://10.0.0.11:8401" },
  { id: "n2", peerAddress: "10.0.0.12:7401", clientUrl: "http://10.0.0.12:8401" },
];
const joining = { join: "http://10.0.0.11:8401", joinToken: "abcdef.0123456789abcdef" };

describe("joinSelf: the member a joining node announces", () => {
  it("advertises its listen addresses when they are not wildcards", () => {
    expect(joinSelf({ nodeId: "n4", ...joining, peerListenAddress: "10.0.0.14:7401", clientListenAddress: "10.0.0.14:8401" })).toEqual({
      ok: true,
      self: { id: "n4", peerAddress: "10.0.0.14:7401", clientUrl: "http://10.0.0.14:8401" },
    });
  });

  it("asks for the advertised addresses when it listens on a wildcard", () => {
    expect(joinSelf({ nodeId: "n4", ...joining, peerListenAddress: "0.0.0.0:7401", clientListenAddress: "10.0.0.14:8401" })).toMatchObject({ ok: false, field: "advertisePeerAddress" });
    expect(joinSelf({ nodeId: "n4", ...joining, peerListenAddress: "10.0.0.14:7401", clientListenAddress: "[::]:8401" })).toMatchObject({ ok: false, field: "advertiseClientUrl" });
    expect(
      joinSelf({ nodeId: "n4", ...joining, peerListenAddress: "0.0.0.0:7401", clientListenAddress: "0.0.0.0:8401", advertisePeerAddress: "n4.internal:7401", advertiseClientUrl: "https://n4.internal:8401" }),
    ).toEqual({ ok: true, self: { id: "n4", peerAddress: "n4.internal:7401", clientUrl: "https://n4.internal:8401" } });
  });

  it("refuses a join without a token, without its own addresses, or with both join and joinDns", () => {
    expect(joinSelf({ nodeId: "n4", join: "http://10.0.0.11:8401", peerListenAddress: "10.0.0.14:7401", clientListenAddress: "10.0.0.14:8401" })).toMatchObject({ ok: false, field: "joinToken" });
    expect(joinSelf({ nodeId: "n4", ...joining, clientListenAddress: "10.0.0.14:8401" })).toMatchObject({ ok: false, field: "peerListenAddress" });
    expect(joinSelf({ nodeId: "n4", ...joining, joinDns: "lockstep.internal", peerListenAddress: "10.0.0.14:7401", clientListenAddress: "10.0.0.14:8401" })).toMatchObject({ ok: false, field: "join" });
  });

  it("takes its addresses from its own entry of a members list (the config file it ran with before its data was lost)", () => {
    expect(joinSelf({ nodeId: "n2", ...joining, members: founders })).toEqual({ ok: true, self: founders[1] });
    // Flags still win over the file.
    expect(joinSelf({ nodeId: "n2", ...joining, members: founders, peerListenAddress: "10.0.0.22:7401", clientListenAddress: "10.0.0.22:8401" })).toEqual({
      ok: true,
      self: { id: "n2", peerAddress: "10.0.0.22:7401", clientUrl: "http://10.0.0.22:8401" },
    });
    expect(joinSelf({ nodeId: "n2", ...joining, members: founders, peerListenAddress: "0.0.0.0:7401", clientListenAddress: "0.0.0.0:8401" })).toEqual({ ok: true, self: founders[1] });
    // A members list that does not name this node supplies nothing.
    expect(joinSelf({ nodeId: "n4", ...joining, members: founders })).toMatchObject({ ok: false, field: "peerListenAddress" });
  });
});
