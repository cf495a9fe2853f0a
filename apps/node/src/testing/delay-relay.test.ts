import { createConnection, createServer, type AddressInfo, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DelayRelay } from "./delay-relay.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function echoServer(): Promise<number> {
  const server: Server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

async function relayTo(port: number): Promise<{ relay: DelayRelay; port: number }> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const listenPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const relay = await DelayRelay.start([{ listen: { host: "127.0.0.1", port: listenPort }, target: { host: "127.0.0.1", port } }]);
  cleanups.push(() => relay.close());
  return { relay, port: listenPort };
}

/** Sends `chunks` one per macrotask through the relay to an echo server; resolves with what came back and when. */
async function roundTrip(port: number, chunks: readonly string[]): Promise<{ echoed: string; elapsedMs: number }> {
  const socket = createConnection({ host: "127.0.0.1", port });
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  const expected = chunks.join("");
  const started = performance.now();
  let echoed = "";
  const done = new Promise<void>((resolve) =>
    socket.on("data", (data: Buffer) => {
      echoed += data.toString();
      if (echoed.length >= expected.length) resolve();
    }),
  );
  for (const chunk of chunks) {
    socket.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await done;
  socket.destroy();
  return { echoed, elapsedMs: performance.now() - started };
}

describe("DelayRelay", () => {
  it("passes bytes straight through with no delay set", async () => {
    const { port } = await relayTo(await echoServer());
    const { echoed, elapsedMs } = await roundTrip(port, ["hello"]);
    expect(echoed).toBe("hello");
    // Far below the 2 x 150 ms of the delayed case, with room for a loaded machine.
    expect(elapsedMs).toBeLessThan(250);
  });

  it("delays each direction by the delay set, while connections are open", async () => {
    const { relay, port } = await relayTo(await echoServer());
    relay.setDelay({ delayMs: 150, jitterMs: 0 });
    const { echoed, elapsedMs } = await roundTrip(port, ["ping"]);
    expect(echoed).toBe("ping");
    // There and back: twice the delay.
    expect(elapsedMs).toBeGreaterThanOrEqual(295);
  });

  it("keeps the order of the bytes under jitter", async () => {
    const { relay, port } = await relayTo(await echoServer());
    relay.setDelay({ delayMs: 5, jitterMs: 30 });
    const chunks = Array.from({ length: 200 }, (_, index) => `${index};`);
    const { echoed } = await roundTrip(port, chunks);
    expect(echoed).toBe(chunks.join(""));
  });
});
