import { describe, expect, it } from "vitest";
import { loadConfig } from "node";
import { concurrencyMax, keyCountMax } from "./bench-args.js";
import { benchNodeConfig } from "./lockstep-cluster.js";

describe("benchNodeConfig", () => {
  it("lets every client of the largest phase, and the bench's scrapes, connect from one address", () => {
    const config = benchNodeConfig({
      nodeId: "n1",
      members: [{ id: "n1", peerAddress: "127.0.0.1:7001", clientUrl: "http://127.0.0.1:8001" }],
      dataDirectory: "/tmp/bench-n1",
      certsDirectory: "/tmp/bench-certs/n1",
    });
    // Read back as `lockstep start --config` reads it: the limits are the node's own options.
    const loaded = loadConfig({ argv: ["--config", "/bench/n1.json"], environment: {}, workingDirectory: "/", readFile: () => JSON.stringify(config) });
    if (!loaded.ok) throw new Error(loaded.message);
    expect(loaded.config.clientConnectionsPerSourceMax).toBeGreaterThan(concurrencyMax);
    expect(loaded.config.httpConnectionsMax).toBeGreaterThan(concurrencyMax);
  });

  it("holds every key the --scaling keys sweep may fill (the default quota of 100,000 keys refused the fill past it)", () => {
    const config = benchNodeConfig({
      nodeId: "n1",
      members: [{ id: "n1", peerAddress: "127.0.0.1:7001", clientUrl: "http://127.0.0.1:8001" }],
      dataDirectory: "/tmp/bench-n1",
      certsDirectory: "/tmp/bench-certs/n1",
    });
    const loaded = loadConfig({ argv: ["--config", "/bench/n1.json"], environment: {}, workingDirectory: "/", readFile: () => JSON.stringify(config) });
    if (!loaded.ok) throw new Error(loaded.message);
    expect(loaded.config.keysMax).toBeGreaterThanOrEqual(keyCountMax);
    // A fill key ("fill-9999999"), its state and the 16-byte overhead: well under 64 bytes each.
    expect(loaded.config.stateBytesMax).toBeGreaterThanOrEqual(keyCountMax * 64);
  });
});
