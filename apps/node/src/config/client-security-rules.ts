import type { ListenAddress } from "./load-config.js";
import { isLoopbackHost } from "./loopback-host.js";

export interface ClientSecurityInput {
  clientListen: ListenAddress;
  clientTlsCertFile?: string | undefined;
  clientTlsKeyFile?: string | undefined;
  clientTlsCaFile?: string | undefined;
  clientAuthentication?: "tokens" | "none" | undefined;
  insecure: boolean;
  selfClientUrl: string;
}

export type ClientSecurityCheck =
  | { ok: true; authentication: "tokens" | "none"; tls: boolean }
  | { ok: false; field: "clientTlsCertFile" | "clientTlsKeyFile" | "clientTlsCaFile" | "members" | "clientListenAddress"; reason: string };

/**
 * The client port's security, decided once at load (DESIGN.md §10): tokens unless the port is on
 * loopback, and a non-loopback port must have both HTTPS and tokens unless `insecure` is said out
 * loud (CockroachDB's rule), so that a forgotten flag fails closed rather than open.
 */
export function checkClientSecurity(input: ClientSecurityInput): ClientSecurityCheck {
  const tls = input.clientTlsCertFile !== undefined;
  if (tls !== (input.clientTlsKeyFile !== undefined)) {
    return { ok: false, field: tls ? "clientTlsKeyFile" : "clientTlsCertFile", reason: "clientTlsCertFile and clientTlsKeyFile go together: give both or neither" };
  }
  if (input.clientTlsCaFile !== undefined && !tls) return { ok: false, field: "clientTlsCaFile", reason: "client certificates need HTTPS: set clientTlsCertFile and clientTlsKeyFile too" };
  const httpsUrl = input.selfClientUrl.startsWith("https://");
  if (tls !== httpsUrl) {
    const reason = tls
      ? `this member's clientUrl ${input.selfClientUrl} must be https:// when the client port has TLS`
      : `this member's clientUrl ${input.selfClientUrl} is https:// but the client port has no TLS (set clientTlsCertFile and clientTlsKeyFile)`;
    return { ok: false, field: "members", reason };
  }
  const loopback = isLoopbackHost(input.clientListen.host);
  const authentication = input.clientAuthentication ?? (loopback ? "none" : "tokens");
  if (!loopback && !input.insecure && (!tls || authentication !== "tokens")) {
    const missing = [tls ? null : "HTTPS (clientTlsCertFile, clientTlsKeyFile)", authentication === "tokens" ? null : 'tokens (clientAuthentication "tokens")'].filter((part) => part !== null);
    return {
      ok: false,
      field: "clientListenAddress",
      reason: `${formatHost(input.clientListen)} is not a loopback address, so the client port needs ${missing.join(" and ")}; pass --insecure to serve it without`,
    };
  }
  return { ok: true, authentication, tls };
}

function formatHost(address: ListenAddress): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
