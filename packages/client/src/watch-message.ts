import { WatchErrorSchema, WatchEventSchema, type WatchError, type WatchEvent } from "@lockstep/protocol";

/** One message of the watch stream, decoded. Decoding never throws. */
export type DecodedWatchMessage =
  | { readonly kind: "event"; readonly event: WatchEvent }
  | { readonly kind: "error"; readonly error: WatchError }
  | { readonly kind: "invalid"; readonly reason: string };

export function decodeWatchMessage(text: string): DecodedWatchMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "invalid", reason: `watch message is not JSON: ${text.slice(0, 120)}` };
  }
  const event = WatchEventSchema.safeParse(json);
  if (event.success) return { kind: "event", event: event.data };
  const error = WatchErrorSchema.safeParse(json);
  if (error.success) return { kind: "error", error: error.data };
  return { kind: "invalid", reason: `watch message matches neither WatchEvent nor WatchError: ${text.slice(0, 120)}` };
}

/** `http://host:port` -> `ws://host:port/v1/watch?from=N` (https -> wss). */
export function watchUrl(endpoint: string, fromRevision: number): string {
  const url = new URL(endpoint);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/watch`;
  url.search = `?from=${fromRevision}`;
  return url.toString();
}
