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
 * `count` distinct ports the kernel reports free on `host` right now: all are bound at once (so
 * none repeats), then released. Another program could take one before it is used; that is
 * rare, and a node that cannot bind exits with a message in its log.
 */
export async function freePorts(host: string, count: number): Promise<number[]> {
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
