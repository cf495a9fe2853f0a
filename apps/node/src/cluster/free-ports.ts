import { createServer } from "node:net";

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
