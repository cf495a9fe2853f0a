import { afterEach, describe, expect, it } from "vitest";
import { FaultProxy } from "./fault-proxy.js";
import { freePorts, heartbeat, loopback, sleep, startNode, waitFor, type TestNode } from "./loopback.js";

const running: TestNode[] = [];
const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((node) => node.transport.close()));
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

/** n1 reaches n2 only through the proxy; n2 reaches n1 directly. */
async function throughProxy(): Promise<{ n1: TestNode; n2: TestNode; proxy: FaultProxy }> {
  const [port1, port2] = (await freePorts(2)) as [number, number];
  const proxy = await FaultProxy.start({ target: { host: loopback, port: port2 } });
  proxies.push(proxy);
  const n2 = await startNode("n2", { n1: { host: loopback, port: port1 } }, { listen: { host: loopback, port: port2 } });
  const n1 = await startNode("n1", { n2: proxy.address() }, { listen: { host: loopback, port: port1 } });
  running.push(n1, n2);
  await waitFor("n1 connected to n2 through the proxy", () => n1.transport.connectedPeers().includes("n2"));
  return { n1, n2, proxy };
}

/**
 * Sends term `term` and higher until one arrives: the first sends after a broken record may go
 * out on the connection TLS is about to close, as consensus's own resends would.
 */
async function deliverEventually(n1: TestNode, n2: TestNode, term: number): Promise<void> {
  for (let next = term; next < term + 100 && n2.received.length === 0; next++) {
    n1.transport.send(heartbeat("n1", "n2", next));
    await sleep(50);
  }
  expect(n2.received.length).toBeGreaterThan(0);
  expect(n2.received[0]!.body.term).toBeGreaterThanOrEqual(term);
}

describe("FaultProxy", () => {
  it("pass forwards frames in order", async () => {
    const { n1, n2, proxy } = await throughProxy();
    for (let term = 1; term <= 20; term++) n1.transport.send(heartbeat("n1", "n2", term));
    await waitFor("all delivered", () => n2.received.length === 20);
    expect(n2.received.map((envelope) => envelope.body.term)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    expect(proxy.connectionCount).toBe(1);
  });

  it("drop loses a TLS record, which breaks the connection (TLS notices the gap); the transport redials and pass restores delivery", async () => {
    const { n1, n2, proxy } = await throughProxy();
    proxy.setMode({ kind: "drop" });
    n1.transport.send(heartbeat("n1", "n2", 1));
    await sleep(100);
    expect(n2.received).toEqual([]);
    proxy.setMode({ kind: "pass" });
    await deliverEventually(n1, n2, 2);
    expect(n2.received.map((envelope) => envelope.body.term)).not.toContain(1);
  });

  it("a tampered record is never delivered: the receiver closes the connection and counts it, then the transport redials", async () => {
    const { n1, n2, proxy } = await throughProxy();
    proxy.setMode({ kind: "tamper" });
    n1.transport.send(heartbeat("n1", "n2", 1));
    // Whichever end reads an altered record first (n1's message, or n2's heartbeat back) closes the connection.
    const tlsErrors = (): number => n1.metrics.sum("messages_invalid_total", { reason: "tls_error" }) + n2.metrics.sum("messages_invalid_total", { reason: "tls_error" });
    await waitFor("an altered record closed the connection and was counted", () => tlsErrors() >= 1);
    await waitFor("n1 lost n2", () => !n1.transport.connectedPeers().includes("n2"));
    expect(n2.received).toEqual([]);
    proxy.setMode({ kind: "pass" });
    await deliverEventually(n1, n2, 2);
  });

  it("delay holds frames for at least the delay, keeping their order", async () => {
    const { n1, n2, proxy } = await throughProxy();
    proxy.setMode({ kind: "delay", delayMs: 150 });
    const sentAt = performance.now();
    n1.transport.send(heartbeat("n1", "n2", 1));
    n1.transport.send(heartbeat("n1", "n2", 2));
    await waitFor("delivered", () => n2.received.length === 2);
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(140);
    expect(n2.received.map((envelope) => envelope.body.term)).toEqual([1, 2]);
  });

  it("cut destroys connections and refuses new ones until pass; the transport then reconnects", async () => {
    const { n1, n2, proxy } = await throughProxy();
    proxy.setMode({ kind: "cut" });
    await waitFor("n1 lost n2", () => !n1.transport.connectedPeers().includes("n2"));
    n1.transport.send(heartbeat("n1", "n2", 1));
    await sleep(200);
    expect(n2.received).toEqual([]);
    expect(n1.transport.connectedPeers()).toEqual([]);
    expect(proxy.connectionCount).toBe(0);
    proxy.setMode({ kind: "pass" });
    await waitFor("n1 reconnected", () => n1.transport.connectedPeers().includes("n2"));
    n1.transport.send(heartbeat("n1", "n2", 2));
    await waitFor("delivery resumed", () => n2.received.length === 1);
    expect(n2.received[0]?.body.term).toBe(2);
  });
});
