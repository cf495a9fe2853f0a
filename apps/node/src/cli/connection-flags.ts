import { readFileSync } from "node:fs";

/**
 * How every client command of the CLI reaches a secured cluster: a bearer token, the CA to trust
 * and a client certificate. One declaration, so `status`, `token`, `member` and `snapshot save`
 * take the same flags with the same environment defaults.
 */
export const connectionFlagOptions = {
  token: { type: "string" },
  cacert: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
} as const;

export const connectionFlagsHelp = `  --token TOKEN             bearer token for a cluster with tokens on (default $LOCKSTEP_TOKEN)
  --cacert FILE             PEM CA file to trust for https:// endpoints, e.g. the cluster CA
                            (default $LOCKSTEP_CACERT); endpoints must then all be https://
  --cert FILE, --key FILE   a client certificate and its key (lockstep certs create-client NAME:
                            client.NAME.crt, client.NAME.key) for nodes that ask for one
                            (default $LOCKSTEP_CERT, $LOCKSTEP_KEY); https:// endpoints only
`;

/** The connection flags as given (file paths, not yet read). */
export interface ConnectionFlags {
  readonly token?: string;
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** What a `LockstepClient` needs from the flags: the token and the PEM texts. */
export interface ConnectionMaterial {
  readonly token?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

type FlagValues = Readonly<Record<string, unknown>>;

function text(value: unknown, fallback: string | undefined): string | undefined {
  const chosen = typeof value === "string" ? value : fallback;
  return chosen === undefined || chosen === "" ? undefined : chosen;
}

/**
 * The flags (else `LOCKSTEP_TOKEN`, `LOCKSTEP_CACERT`, `LOCKSTEP_CERT`, `LOCKSTEP_KEY`), or a
 * message naming the flag that is wrong: a certificate without its key, or TLS material with an
 * http:// endpoint (lockstep never sends over plain HTTP what should go over TLS).
 */
export function parseConnectionFlags(values: FlagValues, env: Readonly<Record<string, string | undefined>>, endpoints: readonly string[]): ConnectionFlags | string {
  const token = text(values.token, env.LOCKSTEP_TOKEN);
  const caFile = text(values.cacert, env.LOCKSTEP_CACERT);
  const certFile = text(values.cert, env.LOCKSTEP_CERT);
  const keyFile = text(values.key, env.LOCKSTEP_KEY);
  if ((certFile === undefined) !== (keyFile === undefined)) return "--cert and --key go together: a client certificate needs its key";
  const plain = endpoints.some((endpoint) => !endpoint.startsWith("https://"));
  if (caFile !== undefined && plain) return "--cacert: every endpoint must be https:// (lockstep never sends to http:// what should go over TLS)";
  if (certFile !== undefined && plain) return "--cert: every endpoint must be https:// (a client certificate is presented only over TLS)";
  return {
    ...(token === undefined ? {} : { token }),
    ...(caFile === undefined ? {} : { caFile }),
    ...(certFile === undefined ? {} : { certFile }),
    ...(keyFile === undefined ? {} : { keyFile }),
  };
}

/** Reads the files the flags name; a file that cannot be read comes back as a message naming its flag. */
export function readConnectionMaterial(flags: ConnectionFlags): { ok: true; material: ConnectionMaterial } | { ok: false; message: string } {
  const files: Array<[flag: string, path: string | undefined, field: "ca" | "cert" | "key"]> = [
    ["--cacert", flags.caFile, "ca"],
    ["--cert", flags.certFile, "cert"],
    ["--key", flags.keyFile, "key"],
  ];
  const material: { token?: string; ca?: string; cert?: string; key?: string } = flags.token === undefined ? {} : { token: flags.token };
  for (const [flag, path, field] of files) {
    if (path === undefined) continue;
    try {
      material[field] = readFileSync(path, "utf8");
    } catch (error) {
      return { ok: false, message: `${flag}: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  return { ok: true, material };
}
