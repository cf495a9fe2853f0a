import { createServer, type Socket } from "node:net";
import { FrameParser } from "@lockstep/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { fakePeer, freePorts, loopback, startNode, waitFor, type TestNode } from "./loopback.js";
import { nodeTls } from "./test-certificates.js";

const running: TestNode[] = [];
const servers: Array<{ close(callback: () => void): void }> = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(running.splice(0).map((node) => node.transport.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(() => resolve(undefined)))));
});

/** A fake n2 that answers the handshake and then says nothing at all, like a hung process. */
async function silentPeer(): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const { server, port } = await fakePeer("n2", await nodeTls("n2"), (socket, answerHello) => {
    accepted++;
    sockets.push(socket);
    const parser = new FrameParser();
    let answered = false;
    socket.on("data", (chunk: Buffer) => {
      for (const event of parser.push(chunk)) {
        if (answered || !event.ok || event.value.body.type !== "Hello") continue;
        // Only the handshake is answered; n1's later Hellos are its heartbeats.
        answered = true;
        answerHello("n1");
      }
    });
  });
  servers.push(server);
  return { port, accepted: () => accepted };
}

describe("reconnection", () => {
  it("asks the delay function for attempts 0, 1, 2, ... while the peer is down, and restarts at 0 after a Hello", async () => {
    const [port1, port2] = (await freePorts(2)) as [number, number];
    const book = { n1: { host: loopback, port: port1 }, n2: { host: loopback, port: port2 } };
    const attempts: number[] = [];
    const n1 = await startNode("n1", book, {
      listen: book.n1,
      reconnectDelay: (attempt) => {
        attempts.push(attempt);
        return 5;
      },
    });
    running.push(n1);
    await waitFor("several failed attempts", () => attempts.length >= 4);
    expect(attempts.slice(0, 4)).toEqual([0, 1, 2, 3]);

    const n2 = await startNode("n2", book, { listen: book.n2 });
    await waitFor("connected", () => n1.transport.connectedPeers().includes("n2"));
    attempts.length = 0;
    await n2.transport.close();
    await waitFor("reconnect attempts after the loss", () => attempts.length >= 2);
    expect(attempts.slice(0, 2)).toEqual([0, 1]);
  });

  it("detects a peer that went silent (idle timeout), counts it and reconnects", async () => {
    const peer = await silentPeer();
    const n1 = await startNode("n1", { n2: { host: loopback, port: peer.port } }, { heartbeatIntervalMs: 30, idleTimeoutMs: 150 });
    running.push(n1);
    await waitFor("connected", () => n1.transport.connectedPeers().includes("n2"));
    await waitFor("idle connection closed and redialed", () => peer.accepted() >= 2, 3000);
    expect(n1.metrics.get("peer_connections_refused_total", { reason: "idle_timeout" })).toBeGreaterThanOrEqual(1);
  });

  it("gives up on a connection attempt after connectTimeoutMs when the peer never answers the Hello", async () => {
    let accepted = 0;
    const mute = createServer((socket) => {
      accepted++;
      sockets.push(socket);
      socket.on("error", () => undefined);
    });
    servers.push(mute);
    await new Promise<void>((resolve) => mute.listen(0, loopback, resolve));
    const port = (mute.address() as { port: number }).port;
    const n1 = await startNode("n1", { n2: { host: loopback, port } }, { connectTimeoutMs: 100, reconnectDelay: () => 10 });
    running.push(n1);
    await waitFor("a second attempt after the first timed out", () => accepted >= 2, 2000);
    expect(n1.transport.connectedPeers()).toEqual([]);
  });
});
