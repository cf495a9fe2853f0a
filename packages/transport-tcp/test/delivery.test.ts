import type { Socket } from "node:net";
import { FrameParser, type Envelope } from "@lockstep/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { acknowledgment, fakePeer, freePorts, heartbeat, loopback, sleep, startNode, waitFor, type TestNode } from "./loopback.js";
import { nodeTls } from "./test-certificates.js";

const running: TestNode[] = [];
const servers: Array<{ close(callback: () => void): void }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((node) => node.transport.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(() => resolve(undefined)))));
});

describe("the bounded send queue and delivery retries", () => {
  it("drops the OLDEST messages when the queue is full, counts them, and delivers the newest", async () => {
    const [port1, port2] = (await freePorts(2)) as [number, number];
    const book = { n1: { host: loopback, port: port1 }, n2: { host: loopback, port: port2 } };
    const n1 = await startNode("n1", book, { listen: book.n1, sendQueueMessagesMax: 5, deliveryRetryDelayMs: 60_000 });
    running.push(n1);
    for (let term = 1; term <= 8; term++) n1.transport.send(heartbeat("n1", "n2", term));
    expect(n1.metrics.get("message_delivery_failures_total", { type: "Proposal", peer: "n2", reason: "queue_full" })).toBe(3);
    await waitFor("queue gauge reported", () => n1.metrics.get("send_queue_messages", { peer: "n2" }) === 5);

    const n2 = await startNode("n2", book, { listen: book.n2 });
    running.push(n2);
    await waitFor("the five newest delivered", () => n2.received.length === 5);
    expect(n2.received.map((envelope) => envelope.body.term)).toEqual([4, 5, 6, 7, 8]);
    await waitFor("queue gauge back to zero", () => n1.metrics.get("send_queue_messages", { peer: "n2" }) === 0);
  });

  it("retries a message deliveryRetryAttemptsMax times while the peer is down, then drops it", async () => {
    const [port1, port2] = (await freePorts(2)) as [number, number];
    const book = { n1: { host: loopback, port: port1 }, n2: { host: loopback, port: port2 } };
    const n1 = await startNode("n1", book, { listen: book.n1, deliveryRetryAttemptsMax: 3, deliveryRetryDelayMs: 20 });
    running.push(n1);
    n1.transport.send(heartbeat("n1", "n2", 1));
    n1.transport.send(acknowledgment("n1", "n2", 1));
    const failures = (): number => n1.metrics.sum("message_delivery_failures_total", { peer: "n2", reason: "peer_unreachable" });
    await waitFor("both dropped as unreachable", () => failures() === 2);
    expect(n1.metrics.get("message_retries_total", { type: "Proposal", peer: "n2" })).toBe(3);
    expect(n1.metrics.get("message_retries_total", { type: "Acknowledgment", peer: "n2" })).toBe(3);
    expect(n1.metrics.sum("messages_sent_total")).toBe(0);
    await sleep(100);
    expect(failures()).toBe(2);
    expect(n1.metrics.sum("message_retries_total")).toBe(6);
  });

  it("delivers a message that waited for the connection within its retries", async () => {
    const [port1, port2] = (await freePorts(2)) as [number, number];
    const book = { n1: { host: loopback, port: port1 }, n2: { host: loopback, port: port2 } };
    const n2 = await startNode("n2", book, { listen: book.n2 });
    running.push(n2);
    // n1 sends before its first connection attempt can have completed.
    const n1 = await startNode("n1", book, { listen: book.n1, deliveryRetryAttemptsMax: 50, deliveryRetryDelayMs: 20 });
    running.push(n1);
    n1.transport.send(heartbeat("n1", "n2", 7));
    await waitFor("delivered", () => n2.received.length === 1);
    expect(n1.metrics.sum("message_delivery_failures_total")).toBe(0);
  });

  it("keeps the queue bounded when the peer stops reading (socket backpressure)", async () => {
    let stalledSocket: Socket | undefined;
    const { server: stalled, port } = await fakePeer("n2", await nodeTls("n2"), (socket, answerHello) => {
      const parser = new FrameParser();
      socket.on("data", (chunk: Buffer) => {
        for (const event of parser.push(chunk)) {
          if (!event.ok || event.value.body.type !== "Hello") continue;
          // Complete the handshake, then never read again: TCP's window fills and writes back up.
          answerHello("n1");
          socket.pause();
          stalledSocket = socket;
        }
      });
    });
    servers.push(stalled);
    const queueMax = 100;
    const n1 = await startNode("n1", { n2: { host: loopback, port } }, { sendQueueMessagesMax: queueMax, heartbeatIntervalMs: 1000, idleTimeoutMs: 60_000 });
    running.push(n1);
    await waitFor("connected to the stalling peer", () => n1.transport.connectedPeers().length === 1 && stalledSocket !== undefined);

    const big = bigProposal();
    const total = 3000;
    let queueGaugeMax = 0;
    for (let sent = 0; sent < total; sent += 50) {
      for (let index = 0; index < 50; index++) n1.transport.send(big);
      await new Promise((resolve) => setImmediate(resolve));
      queueGaugeMax = Math.max(queueGaugeMax, n1.metrics.get("send_queue_messages", { peer: "n2" }));
    }
    await sleep(50);
    const written = n1.metrics.get("messages_sent_total", { type: "Proposal", peer: "n2" });
    const dropped = n1.metrics.get("message_delivery_failures_total", { type: "Proposal", peer: "n2", reason: "queue_full" });
    const queued = n1.metrics.get("send_queue_messages", { peer: "n2" });
    expect(queueGaugeMax).toBeLessThanOrEqual(queueMax);
    expect(queued).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
    // Everything is accounted for: written to the socket, dropped, or still waiting.
    expect(written + dropped + queued).toBe(total);
    // What reached the socket is bounded by the kernel's buffers plus one write batch, far below the total.
    expect(written).toBeLessThan(total / 2);
    stalledSocket?.destroy();
  });
});

function bigProposal(): Envelope {
  const envelope = heartbeat("n1", "n2", 1);
  if (envelope.body.type === "Proposal") {
    envelope.body.entries = Array.from({ length: 1000 }, (_, index) => ({ index: index + 1, term: 1, command: { kind: "noop" as const } }));
  }
  return envelope;
}
