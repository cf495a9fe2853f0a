import type { IncomingMessage } from "node:http";

/** Each request's parsed URL, parsed once: the guard and the route table read the same one. */
const parsed = new WeakMap<IncomingMessage, URL>();

/**
 * The request's URL (path and query against a placeholder origin). The guard decides what a
 * request needs from its path and the route table dispatches on its path: parsing it once means
 * both see the very same pathname (no two parses can disagree), and a request costs one parse.
 */
export function requestUrl(request: IncomingMessage): URL {
  let url = parsed.get(request);
  if (url === undefined) {
    url = new URL(request.url ?? "/", "http://localhost");
    parsed.set(request, url);
  }
  return url;
}
