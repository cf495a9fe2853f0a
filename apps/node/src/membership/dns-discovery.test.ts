import { describe, expect, it } from "vitest";
import { discoverJoinUrls, type DiscoveryResolver } from "./dns-discovery.js";

function fakeResolver(records: { srv?: Record<string, Array<{ name: string; port: number; priority: number; weight: number }>>; a?: Record<string, string[]>; aaaa?: Record<string, string[]> }): DiscoveryResolver & { asked: string[] } {
  const asked: string[] = [];
  const answer = <T>(table: Record<string, T[]> | undefined, name: string): Promise<T[]> => {
    const found = table?.[name];
    return found === undefined ? Promise.reject(Object.assign(new Error(`queryA ENOTFOUND ${name}`), { code: "ENOTFOUND" })) : Promise.resolve(found);
  };
  return {
    asked,
    resolveSrv: (name) => (asked.push(`SRV ${name}`), answer(records.srv, name)),
    resolve4: (name) => (asked.push(`A ${name}`), answer(records.a, name)),
    resolve6: (name) => (asked.push(`AAAA ${name}`), answer(records.aaaa, name)),
  };
}

describe("--join-dns discovery", () => {
  it("prefers SRV records, ordered by priority then weight, with the port they carry", async () => {
    const resolver = fakeResolver({
      srv: {
        "_lockstep-client._tcp.lockstep.default.svc": [
          { name: "n2.lockstep.default.svc.", port: 8402, priority: 10, weight: 5 },
          { name: "n1.lockstep.default.svc.", port: 8401, priority: 0, weight: 5 },
          { name: "n3.lockstep.default.svc.", port: 8403, priority: 10, weight: 50 },
        ],
      },
      a: { "lockstep.default.svc": ["10.0.0.9"] },
    });
    const result = await discoverJoinUrls("lockstep.default.svc", { resolver });
    expect(result).toEqual({
      ok: true,
      source: "srv",
      urls: ["http://n1.lockstep.default.svc:8401", "http://n3.lockstep.default.svc:8403", "http://n2.lockstep.default.svc:8402"],
    });
    expect(resolver.asked).toEqual(["SRV _lockstep-client._tcp.lockstep.default.svc"]);
  });

  it("falls back to the A and AAAA records of a headless service, with the given or default port", async () => {
    const resolver = fakeResolver({ a: { "lockstep-headless": ["10.0.0.7", "10.0.0.8"] }, aaaa: { "lockstep-headless": ["fd00::7"] } });
    expect(await discoverJoinUrls("lockstep-headless:9000", { resolver, scheme: "https" })).toEqual({
      ok: true,
      source: "address",
      urls: ["https://10.0.0.7:9000", "https://10.0.0.8:9000", "https://[fd00::7]:9000"],
    });
    expect(await discoverJoinUrls("lockstep-headless", { resolver })).toMatchObject({ ok: true, urls: ["http://10.0.0.7:8401", "http://10.0.0.8:8401", "http://[fd00::7]:8401"] });
  });

  it("says what it looked for when nothing answers, and refuses a malformed name", async () => {
    const resolver = fakeResolver({});
    expect(await discoverJoinUrls("nowhere.example", { resolver })).toEqual({
      ok: false,
      message: "--join-dns: no SRV records for _lockstep-client._tcp.nowhere.example and no A or AAAA records for nowhere.example",
    });
    expect(await discoverJoinUrls("bad name", { resolver })).toMatchObject({ ok: false, message: expect.stringMatching(/expected NAME or NAME:PORT/) });
    expect(await discoverJoinUrls("svc:70000", { resolver })).toMatchObject({ ok: false });
    expect(resolver.asked).toHaveLength(3);
  });
});
