import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import type { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import type { ErrorCode } from "@lockstep/protocol";
import type { TokenRecord } from "@lockstep/state-machine";
import type { ClientRefusalReason, CountClientRefusal } from "./client-refusals.js";
import { presentedChainReaches } from "./client-tls-material.js";
import { authorize, routeAccess } from "./route-access.js";
import { requestUrl } from "./request-url.js";
import { rpcUpgradeOf } from "./rpc-exchange.js";
import { parseBearer } from "./token-secret.js";
import { authenticate, digestsEqual, type Authentication, type TokenLookup } from "./token-verifier.js";

export interface ClientGuardOptions {
  authentication: "tokens" | "none";
  /** The port serves HTTPS: same-origin pages are `https://<Host>`. */
  tls: boolean;
  /**
   * Every request must come over a TLS connection whose client certificate chained to the client
   * CA (`clientTlsCaFile`). The TLS layer asks for the certificate and records whether it
   * verified; the guard refuses here, so the client gets a JSON answer that says why.
   */
  clientCertificates?: boolean;
  /**
   * Every member's `clientUrl` as of now: their hosts and origins are always allowed (the
   * dashboard reads them all). Read on every check, since the configuration changes through the
   * log; return the same array until it changes, the allowlists are rebuilt only then.
   */
  memberClientUrls: () => readonly string[];
  corsAllowedOrigins: readonly string[];
  /** Extra `Host` names; `*` allows any. */
  hostAllowlist: readonly string[];
  /** The replicated token table, as of now. */
  tokens: () => TokenLookup;
  countRefusal: CountClientRefusal;
}

/** A refused request: the answer to send and the reason to count. */
export interface Refusal {
  code: Extract<ErrorCode, "unauthenticated" | "forbidden" | "unsupported_media_type">;
  reason: ClientRefusalReason;
  message: string;
}

/** The subprotocol a browser's WebSocket offers to carry its token (it cannot set `Authorization`). */
export const webSocketBearerProtocolPrefix = "lockstep.bearer.";
/** The subprotocol the server selects when a client offered protocols. */
export const webSocketProtocol = "lockstep.v1";

const stateChangingMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const preflightMaxAgeSeconds = 600;

/**
 * Every check the client port makes before a handler runs (DESIGN.md §10), in this order: the
 * `Host` (DNS rebinding), the `Origin` (CORS and cross-site WebSockets), the `Content-Type` of a
 * state-changing request (a cross-site "simple" POST), then the bearer token and its role and
 * prefixes. Each refusal is counted by reason.
 */
export class ClientGuard {
  private allowedHosts: ReadonlySet<string> = new Set();
  private readonly anyHost: boolean;
  private allowedOrigins: ReadonlySet<string> = new Set();
  /** The member URLs the allowlists were built from. */
  private membersSeen: readonly string[] | null = null;
  /**
   * The client CA bundle a reload put in use; undefined until one did (then OpenSSL's verdict of
   * each handshake, made against the bundle the port started with, is the whole answer).
   */
  private clientAuthorities: readonly X509Certificate[] | undefined;
  /** Per TLS socket, the bundle its certificate was last found to chain to. */
  private readonly chainChecked = new WeakMap<object, readonly X509Certificate[]>();
  /** Per `/v1/rpc` connection (its upgrade request), the token record a frame of it was last authenticated with. */
  private readonly connectionTokens = new WeakMap<IncomingMessage, TokenRecord>();
  /**
   * Per keep-alive HTTP socket, the token last verified on it and its record. Each request of the
   * socket carries its own header, so the token it presents is compared with that one (in
   * constant time: a proxy may carry several clients' requests on one socket).
   */
  private readonly socketTokens = new WeakMap<object, { presented: string; record: TokenRecord }>();

  constructor(private readonly options: ClientGuardOptions) {
    this.anyHost = options.hostAllowlist.includes("*");
    this.followMembers();
  }

  /** Rebuilds the allowlists when the member URLs changed (a member joined, moved or left). */
  private followMembers(): void {
    const urls = this.options.memberClientUrls();
    if (urls === this.membersSeen) return;
    this.membersSeen = urls;
    const memberUrls = urls.flatMap((url) => (URL.canParse(url) ? [new URL(url)] : []));
    this.allowedHosts = new Set(["localhost", ...memberUrls.map((url) => bareHost(url.hostname)), ...this.options.hostAllowlist.map((host) => host.toLowerCase())]);
    this.allowedOrigins = new Set([...memberUrls.map((url) => url.origin), ...this.options.corsAllowedOrigins.map((origin) => new URL(origin).origin)]);
  }

  /**
   * Checks an HTTP request and sets its CORS headers. Returns true when the handler may run;
   * otherwise the answer (a refusal, or a CORS preflight) has been sent.
   */
  admitRequest(request: IncomingMessage, response: ServerResponse): boolean {
    response.setHeader("Vary", "Origin");
    const method = request.method ?? "GET";
    const origin = request.headers.origin;
    this.followMembers();
    const refusal = this.checkClientCertificate(request) ?? this.checkHost(request) ?? this.checkOrigin(request);
    if (refusal !== null) return this.refuse(request, response, refusal);
    if (origin !== undefined) {
      response.setHeader("Access-Control-Allow-Origin", origin);
      response.setHeader("Access-Control-Expose-Headers", "Content-Type");
    }
    if (method === "OPTIONS") {
      answerPreflight(request, response);
      return false;
    }
    const rest = this.checkContentType(request) ?? this.checkToken(request, method, Date.now());
    return rest === null ? true : this.refuse(request, response, rest);
  }

  /** Checks a WebSocket upgrade; the caller answers a refusal and closes the socket. */
  admitUpgrade(request: IncomingMessage): Refusal | null {
    this.followMembers();
    const refusal = this.checkClientCertificate(request) ?? this.checkHost(request) ?? this.checkOrigin(request) ?? this.checkToken(request, "GET", Date.now());
    if (refusal !== null) this.options.countRefusal(refusal.reason);
    return refusal;
  }

  /**
   * Checks again, against the token table and the clock as they are now, what an open WebSocket
   * was admitted with: its client certificate (still valid in time) and its token (still in the
   * table with the same secret, and its role and prefixes still cover the route). Host and Origin
   * cannot change on an open socket and are not checked again. Not counted here: the caller counts
   * the socket it closes.
   */
  recheckOpenSocket(upgrade: IncomingMessage, nowMs: number): Refusal | null {
    return this.recheckClientCertificate(upgrade, nowMs) ?? this.checkToken(upgrade, "GET", nowMs);
  }

  /**
   * A reload changed the client CA bundle: from now on a connection's certificate must chain to
   * this bundle too, whatever its handshake found (a connection opened under a dropped CA is
   * refused on its next request and its open sockets are closed).
   */
  setClientAuthorities(authorities: readonly X509Certificate[] | undefined): void {
    this.clientAuthorities = authorities;
  }

  private refuse(request: IncomingMessage, response: ServerResponse, refusal: Refusal): false {
    this.options.countRefusal(refusal.reason);
    request.resume();
    sendRefusal(response, refusal);
    return false;
  }

  private checkClientCertificate(request: IncomingMessage): Refusal | null {
    if (this.options.clientCertificates !== true) return null;
    const socket = request.socket as Partial<TLSSocket>;
    if (socket.authorized === true) return this.checkReloadedAuthorities(request.socket as TLSSocket);
    const presented = typeof socket.getPeerCertificate === "function" && Object.keys(socket.getPeerCertificate()).length > 0;
    if (!presented) {
      return {
        code: "unauthenticated",
        reason: "no_client_certificate",
        message: "this node requires a client certificate signed by its client CA (lockstep certs create-client NAME; --cert and --key)",
      };
    }
    const why = socket.authorizationError === undefined ? "not verified" : String(socket.authorizationError);
    return { code: "unauthenticated", reason: "client_certificate_untrusted", message: `the client certificate is not one this node trusts (${why}): it must be signed by the client CA` };
  }

  /** The handshake verified the certificate once; an open socket must not outlive it, nor its CA. */
  private recheckClientCertificate(upgrade: IncomingMessage, nowMs: number): Refusal | null {
    if (this.options.clientCertificates !== true) return null;
    const socket = upgrade.socket as Partial<TLSSocket>;
    const certificate = typeof socket.getPeerX509Certificate === "function" ? socket.getPeerX509Certificate() : undefined;
    if (certificate === undefined) return null;
    if (Date.parse(certificate.validTo) <= nowMs) {
      return { code: "unauthenticated", reason: "client_certificate_untrusted", message: `the client certificate expired on ${certificate.validTo}` };
    }
    return this.checkReloadedAuthorities(upgrade.socket as TLSSocket);
  }

  private checkReloadedAuthorities(socket: TLSSocket): Refusal | null {
    const authorities = this.clientAuthorities;
    if (authorities === undefined || this.chainChecked.get(socket) === authorities) return null;
    if (presentedChainReaches(socket, authorities)) {
      this.chainChecked.set(socket, authorities);
      return null;
    }
    return {
      code: "unauthenticated",
      reason: "client_certificate_untrusted",
      message: "the client certificate is not signed by a CA of the client CA bundle now in use (it was reloaded)",
    };
  }

  private checkHost(request: IncomingMessage): Refusal | null {
    if (this.anyHost) return null;
    const host = hostName(request.headers.host ?? "");
    // An IP literal cannot be the product of DNS rebinding: a page can only reach it under that origin.
    if (host !== null && (isIP(host) !== 0 || this.allowedHosts.has(host) || host.endsWith(".localhost"))) return null;
    return {
      code: "forbidden",
      reason: "host_not_allowed",
      message: `Host ${JSON.stringify(request.headers.host ?? "")} is not one this node answers to (add it to hostAllowlist)`,
    };
  }

  private checkOrigin(request: IncomingMessage): Refusal | null {
    const origin = request.headers.origin;
    if (origin === undefined) return null;
    const sameOrigin = `${this.options.tls ? "https" : "http"}://${(request.headers.host ?? "").toLowerCase()}`;
    if (origin.toLowerCase() === sameOrigin || this.allowedOrigins.has(normalOrigin(origin))) return null;
    return { code: "forbidden", reason: "origin_not_allowed", message: `Origin ${JSON.stringify(origin)} is not allowed (add it to corsAllowedOrigins)` };
  }

  private checkContentType(request: IncomingMessage): Refusal | null {
    if (!stateChangingMethods.has(request.method ?? "GET")) return null;
    const mediaType = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (mediaType === "application/json") return null;
    return {
      code: "unsupported_media_type",
      reason: "content_type",
      message: `${request.method ?? "POST"} needs Content-Type: application/json, got ${JSON.stringify(request.headers["content-type"] ?? "none")}`,
    };
  }

  private checkToken(request: IncomingMessage, method: string, nowMs: number): Refusal | null {
    if (this.options.authentication === "none") return null;
    const access = routeAccess(method, requestUrl(request).pathname);
    if (access.level === "open") return null;
    const authenticated = this.authenticate(request, nowMs);
    if (!authenticated.ok) {
      const message =
        authenticated.reason === "unauthenticated"
          ? "this request needs a token: Authorization: Bearer <token> (lockstep token create)"
          : authenticated.reason === "token_expired"
            ? `the token expired at ${new Date(authenticated.expiresAtMs).toISOString()}`
            : "the token is unknown or revoked";
      return { code: "unauthenticated", reason: authenticated.reason, message };
    }
    const authorized = authorize(authenticated.token, access);
    return authorized.ok ? null : { code: "forbidden", reason: authorized.reason, message: authorized.message };
  }

  /**
   * The request's token, checked against the table. Every frame of a `/v1/rpc` connection carries
   * the token of its upgrade (the headers are copied, a frame cannot name another), so once one
   * frame's token was verified, the next need only find that same record still in the table and
   * unexpired: a revoke deletes it and any change replaces the (frozen) object, and either sends
   * the frame through the full check again. That saves a SHA-256 per frame; nothing secret is
   * compared on this path, so it leaks nothing through timing. A keep-alive HTTP socket saves it
   * the same way for a request that presents the very token the socket's last verified request
   * did (compared in constant time).
   */
  private authenticate(request: IncomingMessage, nowMs: number): Authentication {
    const tokens = this.options.tokens();
    const connection = rpcUpgradeOf(request);
    if (connection === undefined) return this.authenticateOnSocket(request, tokens, nowMs);
    const known = this.connectionTokens.get(connection);
    if (known !== undefined && stillValid(known, tokens, nowMs)) return { ok: true, token: known };
    const authenticated = authenticate(presentedToken(request), tokens, nowMs);
    if (authenticated.ok) this.connectionTokens.set(connection, authenticated.token);
    else this.connectionTokens.delete(connection);
    return authenticated;
  }

  private authenticateOnSocket(request: IncomingMessage, tokens: TokenLookup, nowMs: number): Authentication {
    const presented = presentedToken(request);
    const socket = request.socket as object | null | undefined;
    if (presented === null || socket === null || socket === undefined) return authenticate(presented, tokens, nowMs);
    const known = this.socketTokens.get(socket);
    if (known !== undefined && digestsEqual(presented, known.presented) && stillValid(known.record, tokens, nowMs)) return { ok: true, token: known.record };
    const authenticated = authenticate(presented, tokens, nowMs);
    if (authenticated.ok) this.socketTokens.set(socket, { presented, record: authenticated.token });
    else this.socketTokens.delete(socket);
    return authenticated;
  }
}

/** A record verified before is still the table's (not revoked, not replaced) and unexpired. */
function stillValid(record: TokenRecord, tokens: TokenLookup, nowMs: number): boolean {
  return tokens.get(record.name) === record && (record.expiresAtMs === undefined || nowMs < record.expiresAtMs);
}

/** The token from `Authorization: Bearer`, or from a WebSocket subprotocol `lockstep.bearer.<token>`. */
function presentedToken(request: IncomingMessage): string | null {
  const fromHeader = parseBearer(request.headers.authorization);
  if (fromHeader !== null) return fromHeader;
  const protocols = request.headers["sec-websocket-protocol"];
  if (protocols === undefined || protocols.length > 1024) return null;
  const offered = protocols.split(",").map((protocol) => protocol.trim());
  const bearer = offered.find((protocol) => protocol.startsWith(webSocketBearerProtocolPrefix));
  return bearer === undefined ? null : bearer.slice(webSocketBearerProtocolPrefix.length);
}

function answerPreflight(request: IncomingMessage, response: ServerResponse): void {
  request.resume();
  response.statusCode = 204;
  response.setHeader("Allow", "GET, HEAD, POST, DELETE, OPTIONS");
  if (request.headers.origin !== undefined) {
    response.setHeader("Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE");
    response.setHeader("Access-Control-Allow-Headers", "Authorization, Content-Type");
    response.setHeader("Access-Control-Max-Age", String(preflightMaxAgeSeconds));
  }
  response.end();
}

const refusalStatus = { unauthenticated: 401, forbidden: 403, unsupported_media_type: 415 } as const;

/** Writes a refusal as the API's JSON error. */
export function sendRefusal(response: ServerResponse, refusal: Refusal): void {
  const text = JSON.stringify({ error: { code: refusal.code, message: refusal.message } });
  response.statusCode = refusalStatus[refusal.code];
  if (refusal.code === "unauthenticated" && refusal.reason !== "no_client_certificate" && refusal.reason !== "client_certificate_untrusted") {
    response.setHeader("WWW-Authenticate", 'Bearer realm="lockstep"');
  }
  response.setHeader("Content-Type", "application/json; charset=utf-8");
  response.setHeader("Content-Length", Buffer.byteLength(text));
  response.setHeader("Cache-Control", "no-store");
  response.end(text);
}

/** The same refusal written on a raw socket, for a WebSocket upgrade that is not accepted. */
export function refusalHttpText(refusal: Refusal): string {
  const text = JSON.stringify({ error: { code: refusal.code, message: refusal.message } });
  const status = refusalStatus[refusal.code];
  const reason = status === 401 ? "Unauthorized" : status === 403 ? "Forbidden" : "Unsupported Media Type";
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`;
}

/** `Example.COM:8401` -> `example.com`; `[::1]:8401` -> `::1`; null when unreadable. */
export function hostName(hostHeader: string): string | null {
  const text = hostHeader.trim().toLowerCase();
  if (text === "") return null;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    return end === -1 ? null : text.slice(1, end);
  }
  const colon = text.indexOf(":");
  const host = colon === -1 ? text : text.slice(0, colon);
  return host.replace(/\.$/, "");
}

function bareHost(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
}

function normalOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}
