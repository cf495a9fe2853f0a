import { describe, expect, it } from "vitest";
import { defaultClusterConcurrencies, defaultInProcessConcurrencies, defaultScalingConcurrencies, defaultScalingKeyCounts, parseBenchArgs } from "./bench-args.js";

describe("parseBenchArgs", () => {
  it("defaults to the real cluster at 1, 16, 128, 256 clients for 10 s each", () => {
    const parsed = parseBenchArgs([]);
    expect(parsed).toMatchObject({ ok: true, args: { mode: "cluster", vsEtcd: false, seconds: 10, warmupSeconds: 2, concurrencies: defaultClusterConcurrencies } });
  });

  it("settles each system for 10 s before the first level and measures one round, unless told otherwise", () => {
    expect(parseBenchArgs(["--vs", "etcd"])).toMatchObject({ ok: true, args: { settleSeconds: 10, rounds: 1 } });
    expect(parseBenchArgs(["--vs", "etcd", "--settle", "0", "--rounds", "5"])).toMatchObject({ ok: true, args: { settleSeconds: 0, rounds: 5 } });
  });

  it("takes --vs etcd, and ignores the `--` pnpm may pass through", () => {
    const parsed = parseBenchArgs(["--", "--vs", "etcd", "--seconds", "5"]);
    expect(parsed).toMatchObject({ ok: true, args: { vsEtcd: true, seconds: 5 } });
  });

  it("uses in-process concurrencies for --in-process", () => {
    const parsed = parseBenchArgs(["--in-process", "--profile"]);
    expect(parsed).toMatchObject({ ok: true, args: { mode: "in-process", profile: true, concurrencies: defaultInProcessConcurrencies } });
  });

  it("takes --scaling with its sweeps, defaulting to 1..1024 clients and 1e3..1e6 keys", () => {
    expect(parseBenchArgs(["--scaling"])).toMatchObject({ ok: true, args: { mode: "scaling", concurrencies: defaultScalingConcurrencies, nodeCounts: [3, 5, 7], keyCounts: defaultScalingKeyCounts } });
    expect(parseBenchArgs(["--scaling", "--nodes", "3,5", "--keys", "1000,20000"])).toMatchObject({ ok: true, args: { nodeCounts: [3, 5], keyCounts: [1000, 20000] } });
  });

  it("refuses what it cannot honour, naming the option", () => {
    const cases: Array<[string[], RegExp]> = [
      [["--vs", "redis"], /^--vs: /],
      [["--seconds", "0"], /^--seconds: /],
      [["--seconds", "ten"], /^--seconds: /],
      [["--clients", "1,0"], /^--clients: /],
      [["--clients", "1,,2"], /^--clients: /],
      [["--in-process", "--vs", "etcd"], /cannot be combined/],
      [["--scaling", "--vs", "etcd"], /cannot be combined/],
      [["--keys", "1000"], /belong to --scaling/],
      [["--scaling", "--nodes", "3,0"], /^--nodes: /],
      [["--scaling", "--keys", "1e9"], /^--keys: /],
      [["--frobnicate"], /frobnicate/],
      [["--rounds", "0"], /^--rounds: /],
      [["--rounds", "2.5"], /^--rounds: /],
      [["--rounds", "21"], /^--rounds: /],
      [["--in-process", "--rounds", "3"], /belongs to the cluster bench/],
      [["--settle", "soon"], /^--settle: /],
    ];
    for (const [argv, reason] of cases) {
      const parsed = parseBenchArgs(argv);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toMatch(reason);
    }
  });

  it("turns --chart none into no chart", () => {
    expect(parseBenchArgs(["--chart", "none"])).toMatchObject({ ok: true, args: { chartPath: null } });
  });
});

describe("parseBenchArgs --platform", () => {
  it("takes one client count (default 128) and refuses to be combined with another mode", () => {
    const parsed = parseBenchArgs(["--platform"]);
    expect(parsed.ok && parsed.args.mode).toBe("platform");
    expect(parsed.ok && parsed.args.concurrencies).toEqual([128]);
    const sixteen = parseBenchArgs(["--platform", "--clients", "16"]);
    expect(sixteen.ok && sixteen.args.concurrencies).toEqual([16]);
    for (const argv of [["--platform", "--scaling"], ["--platform", "--in-process"], ["--platform", "--vs", "etcd"], ["--platform", "--clients", "1,16"]]) {
      const refused = parseBenchArgs(argv);
      expect(refused.ok).toBe(false);
      expect(refused.ok ? "" : refused.reason).toContain("--platform");
    }
  });
});

describe("parseBenchArgs --timeline", () => {
  it("runs one client and refuses another mode, a client count or rounds", () => {
    const parsed = parseBenchArgs(["--timeline", "--seconds", "5"]);
    expect(parsed).toMatchObject({ ok: true, args: { mode: "timeline", concurrencies: [1], seconds: 5 } });
    for (const argv of [["--timeline", "--scaling"], ["--timeline", "--in-process"], ["--timeline", "--platform"], ["--timeline", "--vs", "etcd"], ["--timeline", "--clients", "1"]]) {
      const refused = parseBenchArgs(argv);
      expect(refused.ok).toBe(false);
      expect(refused.ok ? "" : refused.reason).toContain("--timeline");
    }
    expect(parseBenchArgs(["--timeline", "--rounds", "3"])).toMatchObject({ ok: false, reason: expect.stringContaining("--rounds") as unknown });
  });
});
