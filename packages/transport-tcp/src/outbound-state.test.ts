import { describe, expect, it } from "vitest";
import { assertTransition, type OutboundStateKind } from "./outbound-state.js";

describe("the outbound lifecycle's transitions", () => {
  it.each<[OutboundStateKind, OutboundStateKind]>([
    ["idle", "connecting"],
    ["connecting", "handshaking"],
    ["handshaking", "open"],
    ["open", "closing"],
    ["closing", "backoff"],
    ["backoff", "connecting"],
    ["backoff", "closed"],
  ])("allows %s -> %s", (from, to) => {
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it.each<[OutboundStateKind, OutboundStateKind]>([
    ["connecting", "open"],
    ["backoff", "open"],
    ["closed", "connecting"],
    ["open", "backoff"],
    ["idle", "open"],
  ])("refuses %s -> %s (a bug, not a network event)", (from, to) => {
    expect(() => assertTransition(from, to)).toThrow(`no transition from ${from} to ${to}`);
  });
});
