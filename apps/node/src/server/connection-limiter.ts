import type { Server } from "node:http";
import type { Socket } from "node:net";

/**
 * Closes a connection at once when its source address already holds `perSourceMax` open ones,
 * so that one client cannot take every connection of `httpConnectionsMax` from the others.
 * Tracks one counter per address with open connections: the map is bounded by them.
 */
export function limitConnectionsPerSource(server: Server, perSourceMax: number, onRefused: () => void): void {
  const openBySource = new Map<string, number>();
  // TLS servers report the raw socket on "connection" before the handshake, plain ones too.
  server.on("connection", (socket: Socket) => {
    const source = socket.remoteAddress ?? "unknown";
    const open = openBySource.get(source) ?? 0;
    if (open >= perSourceMax) {
      onRefused();
      socket.destroy();
      return;
    }
    openBySource.set(source, open + 1);
    socket.once("close", () => {
      const left = (openBySource.get(source) ?? 1) - 1;
      if (left <= 0) openBySource.delete(source);
      else openBySource.set(source, left);
    });
  });
}
