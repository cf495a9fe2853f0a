import { describe, expect, it } from "vitest";
import { resolveTcpTransportOptions, tcpTransportDefaults, type TcpTransportOptions } from "./tcp-transport-options.js";

const valid: TcpTransportOptions = {
  nodeId: "n1",
  cluster: "lab",
  definitionHash: "0".repeat(64),
  listen: { host: "127.0.0.1", port: 0 },
  peers: { n1: { host: "127.0.0.1", port: 7001 }, n2: { host: "127.0.0.1", port: 7002 } },
  // Options are resolved before the TLS material is read, so none is needed here.
  tls: { caPem: "", certPem: "", keyPem: "" },
};

describe("resolveTcpTransportOptions", () => {
  it("fills the documented defaults and ignores the node's own entry in peers", () => {
    const resolved = resolveTcpTransportOptions(valid);
    expect([...resolved.peers.keys()]).toEqual(["n2"]);
    expect(resolved).toMatchObject(tcpTransportDefaults);
    expect(tcpTransportDefaults).toMatchObject({
      frameBytesMax: 4 * 1024 * 1024,
      sendQueueMessagesMax: 10_000,
      reconnectDelayMinMs: 50,
      reconnectDelayMaxMs: 2000,
      deliveryRetryAttemptsMax: 3,
      deliveryRetryDelayMs: 20,
      heartbeatIntervalMs: 500,
      idleTimeoutMs: 3000,
    });
  });

  it("uses the injected random source for the default backoff", () => {
    const resolved = resolveTcpTransportOptions({ ...valid, random: () => 0.5 });
    expect(resolved.reconnectDelay(1)).toBe(75);
  });

  it.each([
    { change: { nodeId: "bad id" }, names: "nodeId" },
    { change: { definitionHash: "xyz" }, names: "definitionHash" },
    { change: { frameBytesMax: 0 }, names: "frameBytesMax" },
    { change: { sendQueueMessagesMax: 1.5 }, names: "sendQueueMessagesMax" },
    { change: { deliveryRetryAttemptsMax: -1 }, names: "deliveryRetryAttemptsMax" },
    { change: { sendQueueBytesMax: 1024 }, names: "sendQueueBytesMax" },
    { change: { heartbeatIntervalMs: 2000, idleTimeoutMs: 3000 }, names: "idleTimeoutMs" },
    { change: { reconnectDelayMinMs: 500, reconnectDelayMaxMs: 100 }, names: "reconnectDelayMaxMs" },
    { change: { listen: { host: "127.0.0.1", port: 70_000 } }, names: "listen.port" },
  ])("refuses $names with invalid_option", ({ change, names }) => {
    expect(() => resolveTcpTransportOptions({ ...valid, ...change })).toThrow(
      expect.objectContaining({ name: "TcpTransportError", code: "invalid_option", message: expect.stringContaining(names) }),
    );
  });
});
