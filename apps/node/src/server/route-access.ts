import type { TokenRecord, TokenRole } from "@lockstep/state-machine";

/**
 * What a request needs. `open`: anyone (health checks, metrics, the dashboard page). Otherwise a
 * token whose role is at least `role`; with `key`, one whose prefixes (if any) cover that key;
 * with `allKeys`, one limited to no prefix at all (listing or watching every key).
 */
export type RouteAccess = { level: "open" } | { level: "token"; role: TokenRole; key?: string; allKeys?: true };

const roleRank: Record<TokenRole, number> = { read: 1, write: 2, admin: 3 };

const machinesPrefix = "/v1/machines/";
const openPaths = new Set(["/", "/livez", "/readyz", "/metrics"]);

/**
 * The access each route needs (docs/security.md has the table). Whatever is not listed here needs
 * `admin`, so a route added later is closed until someone decides otherwise.
 */
export function routeAccess(method: string, path: string): RouteAccess {
  const reading = method === "GET" || method === "HEAD";
  if (reading && openPaths.has(path)) return { level: "open" };
  // A joining node has no bearer token: its one-time join token, checked through the log, is its credential.
  if (method === "POST" && path === "/v1/join") return { level: "open" };
  if (path.startsWith(machinesPrefix) && path.length > machinesPrefix.length) {
    const rest = path.slice(machinesPrefix.length);
    if (reading) return { level: "token", role: "read", key: decodeOrRaw(rest) };
    if (method === "POST" && rest.endsWith("/transition")) return { level: "token", role: "write", key: decodeOrRaw(rest.slice(0, -"/transition".length)) };
    if (method === "DELETE") return { level: "token", role: "write", key: decodeOrRaw(rest) };
  }
  // A session is what a writer needs before its first exactly-once write.
  if (method === "POST" && path === "/v1/sessions") return { level: "token", role: "write" };
  // The dashboard's feed pages through every key's state, as a listing does.
  if (reading && (path === "/v1/machines" || path === "/v1/watch" || path === "/v1/dashboard-feed")) return { level: "token", role: "read", allKeys: true };
  // Any valid token may open the multiplexed connection; each request in it is checked as over HTTP.
  if (method === "GET" && path === "/v1/rpc") return { level: "token", role: "read" };
  if (reading && (path === "/v1/cluster" || path === "/v1/members" || path === "/v1/dashboard-samples")) return { level: "token", role: "read" };
  return { level: "token", role: "admin" };
}

function decodeOrRaw(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export type Authorization = { ok: true } | { ok: false; reason: "forbidden_role" | "forbidden_prefix"; message: string };

/** Whether `token` may do what `access` asks. */
export function authorize(token: TokenRecord, access: RouteAccess): Authorization {
  if (access.level === "open") return { ok: true };
  if (roleRank[token.role] < roleRank[access.role]) {
    return { ok: false, reason: "forbidden_role", message: `token "${token.name}" has role ${token.role}; this needs ${access.role}` };
  }
  if (token.prefixes.length === 0) return { ok: true };
  if (access.allKeys === true) {
    return { ok: false, reason: "forbidden_prefix", message: `token "${token.name}" is limited to keys starting with ${token.prefixes.join(", ")}; it cannot list or watch every key` };
  }
  if (access.key !== undefined && !token.prefixes.some((prefix) => access.key!.startsWith(prefix))) {
    return { ok: false, reason: "forbidden_prefix", message: `token "${token.name}" is limited to keys starting with ${token.prefixes.join(", ")}; "${access.key}" is not one` };
  }
  return { ok: true };
}
