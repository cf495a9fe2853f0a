/**
 * Reconnects, connection deadlines, heartbeats and idle timeouts on virtual time: the transport
 * takes every timer from the injected clock, so time moves only when the test says so. Sockets
 * are real (loopback); only the clock is virtual.
 */
import { createServer, type Server, type Socket } from "node:net";
import { FrameParser } from "@lockstep/protocol";
import { VirtualClock } from "@lockstep/transport-memory";
import { afterEach, describe, expect, it } from "vitest";
import { fakePeer, loopback, sleep, startNode, waitFor, type FakePeerServer, type TestNode } from "./loopback.js";
import { nodeTls } from "./test-certificates.js";

const running: TestNode[] = [];
const servers: Array<Server | FakePeerServer> = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(running.splice(0).map((node) => node.transport.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** Real time in which nothing may happen, because virtual time does not move. */
const quietMs = 150;

describe("the outbound lifecycle on virtual time", () => {
  it("waits exactly reconnectDelay(attempt) of virtual time between dials, and not a moment less", async () => {
    let accepted = 0;
    const resetting = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    servers.push(resetting);
    await new Promise<void>((resolve) => resetting.listen(0, loopback, resolve));
    const clock = new VirtualClock();
    const delays: number[] = [];
    const n1 = await startNode("n1", { n2: { host: loopback, port: (resetting.address() as { port: number }).port } }, {
      clock,
      reconnectDelay: (attempt) => {
        delays.push(attempt);
        return 1000 * (attempt + 1);
      },
    });
    running.push(n1);
    const state = (): string | undefined => n1.transport.peerConnectionStates().n2;
    await waitFor("first dial failed; in backoff", () => accepted === 1 && state() === "backoff");
    expect(delays).toEqual([0]);

    clock.advanceBy(999);
    await sleep(quietMs);
    expect(accepted).toBe(1);
    clock.advanceBy(1);
    await waitFor("second dial after 1000 ms of virtual time", () => accepted === 2 && state() === "backoff");
    expect(delays).toEqual([0, 1]);

    clock.advanceBy(1999);
    await sleep(quietMs);
    expect(accepted).toBe(2);
    clock.advanceBy(1);
    await waitFor("third dial after 2000 ms more", () => accepted === 3);
  });

  it("gives up a dial whose Hello never comes after connectTimeoutMs of virtual time", async () => {
    const mute = await fakePeer("n2", await nodeTls("n2"), () => undefined);
    servers.push(mute.server);
    const clock = new VirtualClock();
    const n1 = await startNode("n1", { n2: { host: loopback, port: mute.port } }, { clock, connectTimeoutMs: 500, reconnectDelay: () => 10_000 });
    running.push(n1);
    await waitFor("TLS done, waiting for the Hello", () => n1.transport.peerConnectionStates().n2 === "handshaking");
    await sleep(quietMs);
    expect(n1.transport.peerConnectionStates().n2).toBe("handshaking");
    clock.advanceBy(500);
    await waitFor("abandoned, in backoff", () => n1.transport.peerConnectionStates().n2 === "backoff");
  });

  it("sends a heartbeat after heartbeatIntervalMs of silence and closes a connection idle for idleTimeoutMs", async () => {
    let hellosReceived = 0;
    const silent = await fakePeer("n2", await nodeTls("n2"), (socket, answerHello) => {
      const parser = new FrameParser();
      socket.on("data", (chunk: Buffer) => {
        for (const event of parser.push(chunk)) {
          if (!event.ok || event.value.body.type !== "Hello") continue;
          hellosReceived++;
          // The handshake is answered; after that this peer never says anything again.
          if (hellosReceived === 1) answerHello("n1");
        }
      });
    });
    servers.push(silent.server);
    const clock = new VirtualClock();
    const n1 = await startNode("n1", { n2: { host: loopback, port: silent.port } }, {
      clock,
      heartbeatIntervalMs: 100,
      idleTimeoutMs: 300,
      reconnectDelay: () => 10_000,
    });
    running.push(n1);
    await waitFor("open", () => n1.transport.connectedPeers().includes("n2"));
    expect(hellosReceived).toBe(1);

    clock.advanceBy(100);
    await waitFor("one heartbeat", () => hellosReceived === 2);
    await sleep(quietMs);
    expect(hellosReceived).toBe(2);
    expect(n1.transport.connectedPeers()).toEqual(["n2"]);

    clock.advanceBy(200);
    await waitFor("closed as idle", () => n1.transport.peerConnectionStates().n2 === "backoff");
    expect(n1.metrics.get("peer_connections_refused_total", { reason: "idle_timeout" })).toBe(1);
  });
});
