import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";

/** What the client brings to a TLS handshake: CAs to trust, and a client certificate to present. */
export interface ClientTls {
  /** PEM CAs to trust instead of the system's (the cluster CA). */
  readonly ca?: string | undefined;
  /** PEM client certificate (`lockstep certs create-client NAME`), presented when the node asks. */
  readonly cert?: string | undefined;
  /** PEM private key of `cert`. */
  readonly key?: string | undefined;
}

/**
 * A `fetch` for https:// URLs over node:https with the client's TLS material: it trusts only
 * `ca` when given (else the system's CAs) and presents `cert`/`key` when given. It supports what
 * the client sends (method, headers, a string body, an abort signal). A plain http:// URL is
 * refused: a client configured for TLS never downgrades.
 */
export function fetchWithTls(tls: ClientTls): typeof fetch {
  const material = {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
  };
  return ((input: string | URL, init: RequestInit = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(String(input));
      if (url.protocol !== "https:") {
        reject(new TypeError(`refusing ${url.protocol}// with TLS settings: this client only speaks https`, { cause: { code: "ERR_INSECURE_URL" } }));
        return;
      }
      const options = { method: init.method ?? "GET", headers: init.headers as Record<string, string>, ...material, ...(init.signal ? { signal: init.signal } : {}) };
      const request = httpsRequest(url, options, (response) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === "string") headers.set(name, value);
        resolve(new Response(Readable.toWeb(response) as ReadableStream<Uint8Array>, { status: response.statusCode ?? 500, headers }));
      });
      request.on("error", (error) => reject(new TypeError("fetch failed", { cause: error })));
      request.end(typeof init.body === "string" ? init.body : undefined);
    })) as typeof fetch;
}
