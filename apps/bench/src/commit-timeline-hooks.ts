import { writeFileSync, promises as fsPromises } from "node:fs";
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import net from "node:net";
import { join } from "node:path";

/** The variable that tells a process (through `commit-timeline-preload.js`) where to write its timeline. */
export const timelineDirectoryVariable = "BENCH_TIMELINE_DIR";

/** Events one process keeps at most (about 40 bytes each): past it, events are counted, not kept. */
export const timelineEventsMax = 2_000_000;

/**
 * What a process records, each with CLOCK_MONOTONIC nanoseconds (`process.hrtime.bigint()`, one
 * clock for every process of the machine, so the processes' timelines line up):
 * - `socket_write` / `socket_read`: a write handed to a socket, a chunk read from one (TLS
 *   sockets are seen decrypted), with the local and remote ports;
 * - `log_write`: a `writeSync` (the log's small appends), with the file descriptor;
 * - `fsync_start` / `fsync_end`: a `FileHandle.datasync()` called and resolved, with the descriptor.
 */
export type TimelineEventKind = "socket_write" | "socket_read" | "log_write" | "fsync_start" | "fsync_end";

export interface TimelineHooks {
  /** Writes `<directory>/<pid>.timeline`: one line per event, then a `# dropped N` line. */
  dump(): void;
}

/**
 * Patches the few calls one commit is made of, in this process: `net.Socket` writes and reads,
 * `fs.writeSync`, and `FileHandle.datasync`. For the bench's `--timeline` only: it slows each call
 * by a few microseconds, so its figures are read as a breakdown, never as the node's latency.
 */
export async function installTimelineHooks(directory: string): Promise<TimelineHooks> {
  const lines: string[] = [];
  let dropped = 0;
  const record = (kind: TimelineEventKind, first: number | string, second: number | string, bytes: number): void => {
    if (lines.length >= timelineEventsMax) {
      dropped += 1;
      return;
    }
    lines.push(`${process.hrtime.bigint()} ${kind} ${first} ${second} ${bytes}`);
  };

  // Each original is taken with Reflect.get and called with Reflect.apply on the same receiver.
  type Method = (...args: unknown[]) => unknown;
  const socketWrite = Reflect.get(net.Socket.prototype, "write") as Method;
  Reflect.set(net.Socket.prototype, "write", function (this: net.Socket, chunk: unknown, ...rest: unknown[]): unknown {
    record("socket_write", this.localPort ?? 0, this.remotePort ?? 0, byteLength(chunk));
    return Reflect.apply(socketWrite, this, [chunk, ...rest]);
  });
  const socketPush = Reflect.get(net.Socket.prototype, "push") as Method;
  Reflect.set(net.Socket.prototype, "push", function (this: net.Socket, chunk: unknown, ...rest: unknown[]): unknown {
    if (chunk !== null && chunk !== undefined) record("socket_read", this.localPort ?? 0, this.remotePort ?? 0, byteLength(chunk));
    return Reflect.apply(socketPush, this, [chunk, ...rest]);
  });
  const writeSync = Reflect.get(fs, "writeSync") as Method;
  Reflect.set(fs, "writeSync", function (fd: number, buffer: unknown, ...rest: unknown[]): unknown {
    record("log_write", fd, 0, byteLength(buffer));
    return Reflect.apply(writeSync, fs, [fd, buffer, ...rest]);
  });
  // Modules that imported `writeSync` by name see the patched function too.
  syncBuiltinESMExports();

  // FileHandle is not exported: its prototype is taken from a handle of /dev/null.
  const probe = await fsPromises.open("/dev/null", "r");
  const handlePrototype = Object.getPrototypeOf(probe) as object;
  await probe.close();
  const datasync = Reflect.get(handlePrototype, "datasync") as Method;
  Reflect.set(handlePrototype, "datasync", async function (this: { fd: number }): Promise<void> {
    record("fsync_start", this.fd, 0, 0);
    try {
      await Reflect.apply(datasync, this, []);
    } finally {
      record("fsync_end", this.fd, 0, 0);
    }
  });

  return {
    dump(): void {
      writeFileSync(join(directory, `${process.pid}.timeline`), `${lines.join("\n")}\n# dropped ${dropped}\n`);
    },
  };
}

function byteLength(chunk: unknown): number {
  if (typeof chunk === "string") return Buffer.byteLength(chunk);
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
