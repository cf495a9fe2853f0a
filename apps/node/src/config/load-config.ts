import { checkClientSecurity } from "./client-security-rules.js";
import { firstBrokenRule } from "./cross-field-rules.js";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { z } from "zod";
import {
  configFileEnvironmentVariable,
  readEnvironment,
  readFlags,
  type SourceResult,
  type SourcedValues,
} from "./config-sources.js";
import { joinSelf, type JoinSelf } from "./join-self.js";
import { nodeOption } from "./node-options.js";
import { configFieldExpectations, configFieldNames, NodeConfigSchema, type ConfigFieldName, type MemberConfig, type ParsedNodeConfig } from "./node-config-schema.js";

export interface ListenAddress {
  host: string;
  port: number;
}

/** A validated configuration with every derived default filled in. */
export type NodeConfig = Omit<
  ParsedNodeConfig,
  | "members"
  | "peerListenAddress"
  | "clientListenAddress"
  | "dataDirectory"
  | "certsDirectory"
  | "peerCaFile"
  | "peerCertFile"
  | "peerKeyFile"
  | "clientAuthentication"
  | "clientTlsCertFile"
  | "clientTlsKeyFile"
  | "clientTlsCaFile"
  | "initialAdminTokenFile"
> & {
  members: MemberConfig[];
  self: MemberConfig;
  peerListen: ListenAddress;
  clientListen: ListenAddress;
  /** Absolute. */
  dataDirectory: string;
  /** Absolute, when given. */
  definitionFile?: string;
  /** Absolute: the peer port's CA bundle, certificate and key. */
  peerTls: PeerTlsFiles;
  /** Resolved: `none` only on loopback or with `insecure`. */
  clientAuthentication: "tokens" | "none";
  /** Absolute paths; present when the client port serves HTTPS. */
  clientTls?: { certFile: string; keyFile: string; caFile?: string };
  /** Absolute; present when `clientAuthentication` is `tokens`. */
  initialAdminTokenFile?: string;
};

export interface PeerTlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface LoadConfigInput {
  argv: readonly string[];
  environment: NodeJS.ProcessEnv;
  /** Relative paths given by flags and the environment resolve against it. */
  workingDirectory: string;
  readFile?: (path: string) => string;
}

export type LoadConfigResult = { ok: true; config: NodeConfig; warnings: string[] } | { ok: false; message: string };

/**
 * Builds the configuration from, lowest precedence first: defaults, the JSON config file
 * (`--config FILE` or LOCKSTEP_CONFIG), `LOCKSTEP_*` variables, flags. Never throws: a bad
 * value is reported with the field's name, what it expects, what it got, and where from.
 */
export function loadConfig(input: LoadConfigInput): LoadConfigResult {
  const flags = readFlags(input.argv);
  if (!flags.ok) return flags;
  const configFile = flags.value.configFile ?? input.environment[configFileEnvironmentVariable];
  const fileValues = configFile === undefined ? { ok: true as const, value: {} } : readConfigFile(resolve(input.workingDirectory, configFile), input.readFile);
  if (!fileValues.ok) return fileValues;
  const environment = readEnvironment(input.environment);
  const merged: SourcedValues = { ...fileValues.value, ...environment.values, ...flags.value.values };

  const raw: Record<string, unknown> = {};
  for (const [name, sourced] of Object.entries(merged)) raw[name] = sourced.value;
  const parsed = NodeConfigSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, message: formatIssue(parsed.error.issues[0]!, merged) };

  const derived = deriveConfig(parsed.data, merged, input.workingDirectory);
  if (!derived.ok) return derived;
  return { ok: true, config: derived.value, warnings: environment.warnings };
}

function readConfigFile(path: string, readFile: (path: string) => string = (file) => readFileSync(file, "utf8")): SourceResult<SourcedValues> {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    return { ok: false, message: `config: cannot read config file ${path}: ${error instanceof Error ? error.message : String(error)}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `config: ${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return { ok: false, message: `config: ${path} must hold a JSON object` };
  const values: SourcedValues = {};
  const known = new Set<string>(configFieldNames);
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (!known.has(name)) return { ok: false, message: `config: ${name}: unknown option (from ${path})` };
    // Paths in a config file are relative to the file, so that a cluster's files can move together.
    const isPath = nodeOption(name as ConfigFieldName).path === true;
    const resolved = isPath && typeof value === "string" ? resolve(dirname(path), value) : value;
    values[name as ConfigFieldName] = { value: resolved, source: path };
  }
  return { ok: true, value: values };
}

function formatIssue(issue: z.core.$ZodIssue, merged: SourcedValues): string {
  const name = issue.path[0];
  if (typeof name !== "string") return `config: ${issue.message}`;
  const sourced = merged[name as ConfigFieldName];
  const source = sourced === undefined ? "" : ` (from ${sourced.source})`;
  if (issue.code === "unrecognized_keys") return `config: ${issue.keys.join(", ")}: unknown option${source}`;
  if (sourced === undefined) return `config: ${name}: required, expected ${configFieldExpectations[name as ConfigFieldName]}`;
  if (issue.path.length > 1) {
    const nested = issue.path.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`)).join("").slice(1);
    return `config: ${nested}: ${issue.message}${source}`;
  }
  return `config: ${name}: expected ${configFieldExpectations[name as ConfigFieldName]}, got ${JSON.stringify(sourced.value)}${source}`;
}

function deriveConfig(parsed: ParsedNodeConfig, merged: SourcedValues, workingDirectory: string): SourceResult<NodeConfig> {
  const joining = parsed.join !== undefined || parsed.joinDns !== undefined;
  let joiner: JoinSelf | undefined;
  if (joining) {
    joiner = joinSelf(parsed);
    if (!joiner.ok) return { ok: false, message: `config: ${joiner.field}: ${joiner.reason}${sourceOf(merged, joiner.field)}` };
  }
  // A joining node learns the members from the cluster; until then it knows only itself. A
  // `members` list in its file (the founders) is kept, with this node's entry as it joins.
  const members: MemberConfig[] =
    parsed.members === undefined
      ? [joiner?.ok === true ? joiner.self : { id: parsed.nodeId, peerAddress: "127.0.0.1:7401", clientUrl: "http://127.0.0.1:8401" }]
      : parsed.members.map((member) => (joiner?.ok === true && member.id === parsed.nodeId ? joiner.self : member));
  const seen = new Set<string>();
  for (const member of members) {
    if (seen.has(member.id)) return { ok: false, message: `config: members: duplicate member id "${member.id}"${sourceOf(merged, "members")}` };
    seen.add(member.id);
    const clientAddress = hostPortOfUrl(member.clientUrl);
    if (parseHostPort(member.peerAddress) === null || parseHostPort(clientAddress) === null) {
      return { ok: false, message: `config: members: member "${member.id}" has a port out of range${sourceOf(merged, "members")}` };
    }
  }
  const self = members.find((member) => member.id === parsed.nodeId);
  if (self === undefined) {
    return { ok: false, message: `config: nodeId: "${parsed.nodeId}" is not one of the members (${members.map((member) => member.id).join(", ")})${sourceOf(merged, "nodeId")}` };
  }
  const peerListen = parseHostPort(parsed.peerListenAddress ?? self.peerAddress);
  const clientListen = parseHostPort(parsed.clientListenAddress ?? hostPortOfUrl(self.clientUrl));
  if (peerListen === null) return { ok: false, message: `config: peerListenAddress: port out of range${sourceOf(merged, "peerListenAddress")}` };
  if (clientListen === null) return { ok: false, message: `config: clientListenAddress: port out of range${sourceOf(merged, "clientListenAddress")}` };
  const broken = firstBrokenRule(parsed);
  if (broken !== null) return { ok: false, message: `config: ${broken.field}: ${broken.reason}${sourceOf(merged, broken.field)}` };
  const security = checkClientSecurity({ ...parsed, clientListen, selfClientUrl: self.clientUrl });
  if (!security.ok) return { ok: false, message: `config: ${security.field}: ${security.reason}${sourceOf(merged, security.field)}` };
  const {
    peerListenAddress: _peer,
    clientListenAddress: _client,
    definitionFile,
    certsDirectory,
    peerCaFile,
    peerCertFile,
    peerKeyFile,
    clientAuthentication: _authentication,
    clientTlsCertFile,
    clientTlsKeyFile,
    clientTlsCaFile,
    initialAdminTokenFile,
    joinCaKeyFile,
    ...rest
  } = parsed;
  const certs = resolve(workingDirectory, certsDirectory ?? "certs");
  const dataDirectory = resolve(workingDirectory, parsed.dataDirectory ?? `lockstep-data/${parsed.nodeId}`);
  const absolute = (path: string): string => resolve(workingDirectory, path);
  return {
    ok: true,
    value: {
      ...rest,
      clientAuthentication: security.authentication,
      ...(clientTlsCertFile === undefined || clientTlsKeyFile === undefined
        ? {}
        : { clientTls: { certFile: absolute(clientTlsCertFile), keyFile: absolute(clientTlsKeyFile), ...(clientTlsCaFile === undefined ? {} : { caFile: absolute(clientTlsCaFile) }) } }),
      ...(security.authentication === "tokens" ? { initialAdminTokenFile: absolute(initialAdminTokenFile ?? resolve(dataDirectory, "initial-admin-token")) } : {}),
      members,
      self,
      peerListen,
      clientListen,
      dataDirectory,
      ...(definitionFile === undefined ? {} : { definitionFile: resolve(workingDirectory, definitionFile) }),
      ...(joinCaKeyFile === undefined ? {} : { joinCaKeyFile: resolve(workingDirectory, joinCaKeyFile) }),
      peerTls: {
        caFile: peerCaFile === undefined ? resolve(certs, "ca.crt") : resolve(workingDirectory, peerCaFile),
        certFile: peerCertFile === undefined ? resolve(certs, "node.crt") : resolve(workingDirectory, peerCertFile),
        keyFile: peerKeyFile === undefined ? resolve(certs, "node.key") : resolve(workingDirectory, peerKeyFile),
      },
    },
  };
}

function sourceOf(merged: SourcedValues, name: ConfigFieldName): string {
  const sourced = merged[name];
  return sourced === undefined ? "" : ` (from ${sourced.source})`;
}

/** `http://host:port/` -> `host:port`. */
function hostPortOfUrl(url: string): string {
  return url.replace(/^https?:\/\//, "").replace(/\/$/, "");
}

/** `host:port` -> parts, with IPv6 brackets removed; null for a port above 65535. */
export function parseHostPort(address: string): ListenAddress | null {
  const separator = address.lastIndexOf(":");
  const port = Number(address.slice(separator + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65_535) return null;
  return { host: address.slice(0, separator).replace(/^\[(.*)\]$/, "$1"), port };
}
