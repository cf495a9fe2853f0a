import { createServer, type Server } from "node:net";

/**
 * `count` distinct ports the kernel reports free on `host` right now: all are bound at once (so
 * none repeats), then released. Another program could take one before it is used; on a bench
 * machine that is rare, and the cluster's start-up then fails with a clear "did not elect" error.
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
