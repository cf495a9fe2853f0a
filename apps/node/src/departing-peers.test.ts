import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DepartingPeers, type PeerAddress } from "./departing-peers.js";

const at = (port: number): PeerAddress => ({ host: "127.0.0.1", port });

describe("DepartingPeers", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("keeps a member that left for the grace, then drops it; one that comes back stays", () => {
    const applied: string[][] = [];
    const peers = new DepartingPeers(1_000, (next) => applied.push(Object.keys(next).sort()));
    peers.follow(new Map([["n2", at(2)], ["n3", at(3)]]));
    peers.follow(new Map([["n2", at(2)]]));
    expect(applied.at(-1)).toEqual(["n2", "n3"]);
    vi.advanceTimersByTime(999);
    expect(applied.at(-1)).toEqual(["n2", "n3"]);
    vi.advanceTimersByTime(1);
    expect(applied.at(-1)).toEqual(["n2"]);
    // Leaves and comes back within the grace: no later drop.
    peers.follow(new Map());
    peers.follow(new Map([["n2", at(2)]]));
    vi.advanceTimersByTime(5_000);
    expect(applied.at(-1)).toEqual(["n2"]);
  });

  it("ends every grace when cleared", () => {
    const applied: string[][] = [];
    const peers = new DepartingPeers(1_000, (next) => applied.push(Object.keys(next).sort()));
    peers.follow(new Map([["n2", at(2)]]));
    peers.follow(new Map());
    peers.clear();
    const count = applied.length;
    vi.advanceTimersByTime(5_000);
    expect(applied.length).toBe(count);
  });
});
