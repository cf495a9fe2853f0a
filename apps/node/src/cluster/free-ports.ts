import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";

/** Resolves true when `port` can be bound on `host` right now. */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** How many blocks of ports are tried before giving up; each block is `blockStep` higher. */
const blocksTriedMax = 20;
const blockStep = 10;

/**
 * `count` consecutive ports from `base` for peers and from `clientBase` for clients, all free.
 * If any is taken, the whole block moves up by 10 (7401-7403 -> 7411-7413), so the numbering
 * stays easy to read. Resolves null when no block is free.
 */
export async function findFreePortBlock(host: string, peerBase: number, clientBase: number, count: number): Promise<{ peerPorts: number[]; clientPorts: number[] } | null> {
  for (let block = 0; block < blocksTriedMax; block++) {
    const offset = block * blockStep;
    const peerPorts = Array.from({ length: count }, (_, index) => peerBase + offset + index);
    const clientPorts = Array.from({ length: count }, (_, index) => clientBase + offset + index);
    const free = await Promise.all([...peerPorts, ...clientPorts].map((port) => isPortFree(host, port)));
    if (free.every(Boolean)) return { peerPorts, clientPorts };
  }
  return null;
}

/**
 * `count` distinct ports free on `host` right now, taken from below the kernel's ephemeral range
 * (`/proc/sys/net/ipv4/ip_local_port_range`, 32768-60999 by default). A port the kernel handed
 * out from that range (`listen(0)`) could be given, between its release and its use, to another
 * process's outgoing connection as its source port, and test files that run at once then collided
 * (`EADDRINUSE`). Ports below the range are never handed out that way. Each process starts at a
 * random place in the range and moves forward, so two processes rarely try the same ports, and one
 * process never gets the same port twice until it has gone round the whole range. Another program
 * could still take a port before it is used; a node that cannot bind exits with a message in its
 * log. Where the ephemeral range starts too low to leave room, the kernel chooses (`listen(0)`).
 */
export async function freePorts(host: string, count: number): Promise<number[]> {
  const range = portsBelowEphemeralRange();
  if (range === null) return kernelChosenPorts(host, count);
  const ports: number[] = [];
  const span = range.endExclusive - range.start;
  // Bounded by the range's size: every port in it is tried at most once per call. The cursor moves
  // before each await, so calls that run at once in this process take different ports.
  for (let tried = 0; ports.length < count && tried < span; tried++) {
    const from = cursor ?? range.start + Math.floor(Math.random() * span);
    const port = range.start + ((from - range.start) % span);
    cursor = port + 1;
    if (await isPortFree(host, port)) ports.push(port);
  }
  if (ports.length < count) throw new Error(`free ports: only ${ports.length} of ${count} free on ${host} in ${range.start}-${range.endExclusive - 1}`);
  return ports;
}

/** The lowest port `freePorts` hands out: below it are ports services commonly listen on. */
const handedOutPortMin = 10_000;
/** Fewer free ports than this below the ephemeral range, and `freePorts` lets the kernel choose. */
const handedOutPortsMin = 1_000;
/** Where this process's next `freePorts` search starts; set at random on first use. */
let cursor: number | undefined;

function portsBelowEphemeralRange(): { start: number; endExclusive: number } | null {
  let ephemeralStart = 32_768;
  try {
    const first = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 0) ephemeralStart = first;
  } catch {
    // Not Linux: 32768 is where Linux starts by default and below where BSD and macOS start (49152).
  }
  if (ephemeralStart - handedOutPortMin < handedOutPortsMin) return null;
  return { start: handedOutPortMin, endExclusive: ephemeralStart };
}

/** `count` distinct ports the kernel chose: all are bound at once (so none repeats), then released. */
async function kernelChosenPorts(host: string, count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let index = 0; index < count; index++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once("error", reject);
          server.listen(0, host, () => {
            const address = server.address();
            if (typeof address === "object" && address !== null) resolve(address.port);
            else reject(new Error("listening socket has no port"));
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}
