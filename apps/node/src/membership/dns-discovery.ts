import { promises as dns } from "node:dns";

/** The parts of node:dns's resolver that discovery uses; a test passes a fake. */
export interface DiscoveryResolver {
  resolveSrv(name: string): Promise<Array<{ name: string; port: number; priority: number; weight: number }>>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

/** Addresses one DNS answer may contribute; a larger answer is cut (a cluster has at most 15 members). */
export const discoveredUrlsMax = 64;
/** The client port assumed for A/AAAA records when `--join-dns` names none. */
export const defaultDiscoveryClientPort = 8401;

export type DiscoveryResult = { ok: true; urls: string[]; source: "srv" | "address" } | { ok: false; message: string };

/**
 * `--join-dns NAME[:PORT]`: the client URLs of a cluster's members, for orchestrators. SRV
 * records `_lockstep-client._tcp.NAME` come first (they carry the port); without them, the A
 * and AAAA records of NAME (a Kubernetes headless service) with PORT (default 8401). Never throws.
 */
export async function discoverJoinUrls(target: string, options: { resolver?: DiscoveryResolver; scheme?: "http" | "https" } = {}): Promise<DiscoveryResult> {
  const resolver = options.resolver ?? new dns.Resolver();
  const scheme = options.scheme ?? "http";
  const parsed = parseTarget(target);
  if (parsed === null) return { ok: false, message: `--join-dns: expected NAME or NAME:PORT, got ${JSON.stringify(target)}` };
  const { name, port } = parsed;
  const srv = await resolver.resolveSrv(`_lockstep-client._tcp.${name}`).catch(() => []);
  if (srv.length > 0) {
    const ordered = [...srv].sort((left, right) => left.priority - right.priority || right.weight - left.weight || left.name.localeCompare(right.name));
    const urls = unique(ordered.map((record) => `${scheme}://${formatHost(record.name.replace(/\.$/, ""))}:${record.port}`));
    return { ok: true, urls: urls.slice(0, discoveredUrlsMax), source: "srv" };
  }
  const [v4, v6] = await Promise.all([resolver.resolve4(name).catch(() => []), resolver.resolve6(name).catch(() => [])]);
  const addresses = [...v4, ...v6];
  if (addresses.length === 0) {
    return { ok: false, message: `--join-dns: no SRV records for _lockstep-client._tcp.${name} and no A or AAAA records for ${name}` };
  }
  const urls = unique(addresses.map((address) => `${scheme}://${formatHost(address)}:${port ?? defaultDiscoveryClientPort}`));
  return { ok: true, urls: urls.slice(0, discoveredUrlsMax), source: "address" };
}

function parseTarget(target: string): { name: string; port: number | null } | null {
  const match = /^([A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::([0-9]{1,5}))?$/.exec(target);
  if (match === null) return null;
  const port = match[2] === undefined ? null : Number(match[2]);
  if (port !== null && (port < 1 || port > 65_535)) return null;
  return { name: match[1]!, port };
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
