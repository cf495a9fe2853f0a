import { parseArgs } from "node:util";
import { LockstepClient, LockstepError } from "@lockstep/client";
import { TokenCreateRequestSchema } from "@lockstep/protocol";
import { parseLifetime } from "../certs/parse-lifetime.js";
import { parseEndpoints } from "./client-args.js";
import { connectionFlagOptions, connectionFlagsHelp, parseConnectionFlags, readConnectionMaterial } from "./connection-flags.js";

export const tokenUsage = `Usage: lockstep token create NAME --role read|write|admin [--prefix P]... [--ttl 24h] [options]
       lockstep token list [options]
       lockstep token revoke NAME [options]

Manages the cluster's client tokens (needs an admin token). create prints the new token once:
store it, the cluster keeps only its SHA-256. --ttl (30m, 24h, 90d) makes it expire: every node
refuses it from then on and closes the sockets it opened. revoke takes effect on every node as it
applies it.

Options:
  --endpoints URL[,URL...]  nodes to talk to (default $LOCKSTEP_ENDPOINTS, else the local cluster)
${connectionFlagsHelp}  --json                    print the answer as JSON
`;

export interface TokenCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

/** `lockstep token create|list|revoke`: 0 ok, 1 refused or unavailable, 2 usage error. */
export async function runTokenCommand(argv: readonly string[], io: TokenCommandIo): Promise<number> {
  let parsed: ReturnType<typeof parseTokenArgs>;
  try {
    parsed = parseTokenArgs(argv, io.env);
  } catch (error) {
    io.stderr(`lockstep token: ${error instanceof Error ? error.message : String(error)}\n\n${tokenUsage}`);
    return 2;
  }
  if (parsed === "help") {
    io.stdout(tokenUsage);
    return 0;
  }
  try {
    const client = new LockstepClient({ endpoints: parsed.endpoints, ...parsed.material });
    const answer =
      parsed.action.kind === "create" ? await client.createToken(parsed.action.request) : parsed.action.kind === "list" ? await client.listTokens() : await client.revokeToken(parsed.action.name);
    io.stdout(parsed.json ? `${JSON.stringify(answer)}\n` : human(answer));
    return 0;
  } catch (error) {
    if (!(error instanceof LockstepError)) throw error;
    io.stderr(`lockstep token: ${error.code}: ${error.message}\n`);
    return 1;
  }
}

type TokenAction = { kind: "create"; request: ReturnType<typeof TokenCreateRequestSchema.parse> } | { kind: "list" } | { kind: "revoke"; name: string };

function parseTokenArgs(argv: readonly string[], env: TokenCommandIo["env"]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      role: { type: "string" },
      prefix: { type: "string", multiple: true },
      ttl: { type: "string" },
      endpoints: { type: "string" },
      ...connectionFlagOptions,
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return "help" as const;
  const [verb, name, ...extra] = positionals;
  if (extra.length > 0) throw new Error(`unexpected ${extra.join(" ")}`);
  let action: TokenAction;
  if (verb === "list" && name === undefined) action = { kind: "list" };
  else if (verb === "revoke" && name !== undefined) action = { kind: "revoke", name };
  else if (verb === "create" && name !== undefined) {
    const ttl = values.ttl === undefined ? undefined : parseLifetime(values.ttl);
    if (ttl !== undefined && !ttl.ok) throw new Error(`--ttl: ${ttl.message}`);
    const ttlSeconds = ttl === undefined ? {} : { ttlSeconds: Math.max(1, Math.round(ttl.days * 86_400)) };
    const request = TokenCreateRequestSchema.safeParse({ name, role: values.role, ...(values.prefix === undefined ? {} : { prefixes: values.prefix }), ...ttlSeconds });
    if (!request.success) throw new Error(`${request.error.issues[0]!.path.join(".") || "token"}: ${request.error.issues[0]!.message} (create needs NAME and --role read|write|admin)`);
    action = { kind: "create", request: request.data };
  } else throw new Error("expected create NAME --role ROLE, list, or revoke NAME");
  const endpoints = parseEndpoints(values.endpoints ?? env.LOCKSTEP_ENDPOINTS);
  if (typeof endpoints === "string") throw new Error(endpoints);
  const connection = parseConnectionFlags(values, env, endpoints);
  if (typeof connection === "string") throw new Error(connection);
  const material = readConnectionMaterial(connection);
  if (!material.ok) throw new Error(material.message);
  return { action, endpoints, json: values.json === true, material: material.material };
}

function human(answer: unknown): string {
  const value = answer as { token?: string; name?: string; tokens?: Array<{ name: string; role: string; prefixes: string[]; createdRevision: number; expiresAt?: string }>; revision?: number };
  if (value.tokens !== undefined) {
    return value.tokens.map((token) => `${token.name.padEnd(24)} ${token.role.padEnd(6)} ${token.prefixes.length === 0 ? "(all keys)" : token.prefixes.join(",")}  rev ${token.createdRevision}${token.expiresAt === undefined ? "" : `  expires ${token.expiresAt}`}`).join("\n") + "\n";
  }
  if (value.token !== undefined) return `${value.token}\n`;
  return `revoked ${value.name ?? ""} at revision ${value.revision ?? 0}\n`;
}
