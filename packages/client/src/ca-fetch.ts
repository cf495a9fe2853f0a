import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";

/**
 * A `fetch` for https:// URLs that trusts only `ca` (PEM), e.g. the cluster CA: what the client
 * uses when given `ca`. It supports what the client sends (method, headers, a string body, an
 * abort signal). A plain http:// URL is refused: a client that was given a CA never downgrades.
 */
export function fetchTrusting(ca: string): typeof fetch {
  return ((input: string | URL, init: RequestInit = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(String(input));
      if (url.protocol !== "https:") {
        reject(new TypeError(`refusing ${url.protocol}// with a CA: this client only speaks https`, { cause: { code: "ERR_INSECURE_URL" } }));
        return;
      }
      const request = httpsRequest(url, { method: init.method ?? "GET", headers: init.headers as Record<string, string>, ca, ...(init.signal ? { signal: init.signal } : {}) }, (response) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === "string") headers.set(name, value);
        resolve(new Response(Readable.toWeb(response) as ReadableStream<Uint8Array>, { status: response.statusCode ?? 500, headers }));
      });
      request.on("error", (error) => reject(new TypeError("fetch failed", { cause: error })));
      request.end(typeof init.body === "string" ? init.body : undefined);
    })) as typeof fetch;
}
