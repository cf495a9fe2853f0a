import { WatchEventSchema, WatchErrorSchema, type WatchEvent } from "@lockstep/protocol";
import WebSocket from "ws";

/** A raw `/v1/watch` WebSocket that collects what it receives, for tests that control the socket. */
export class WatchSocket {
  readonly events: WatchEvent[] = [];
  readonly errors: string[] = [];
  private readonly socket: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(clientUrl: string, fromRevision: number) {
    this.socket = new WebSocket(`${clientUrl.replace(/^http/, "ws")}/v1/watch?from=${fromRevision}`);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once("open", () => resolve());
      this.socket.once("error", reject);
    });
    this.closed = new Promise((resolve) => this.socket.once("close", () => resolve()));
    this.socket.on("message", (data: Buffer) => this.onMessage(data.toString("utf8")));
  }

  get lastRevision(): number | undefined {
    return this.events.at(-1)?.revision;
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.closed;
  }

  private onMessage(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.errors.push(`not JSON: ${text.slice(0, 200)}`);
      return;
    }
    const event = WatchEventSchema.safeParse(message);
    if (event.success) return void this.events.push(event.data);
    const error = WatchErrorSchema.safeParse(message);
    this.errors.push(error.success ? `${error.data.code}: ${error.data.message}` : `unexpected message: ${text.slice(0, 200)}`);
  }
}
