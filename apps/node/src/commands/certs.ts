import { X509Certificate } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  CertsError,
  certificateIdentities,
  createCertificateAuthority,
  defaultKeyType,
  keyTypes,
  keyTypeOf,
  parseCertificateBundle,
  signClientCertificate,
  signNodeCertificate,
  type KeyType,
} from "@lockstep/certs";
import { certsFileNames, certsPath, readTextFile, writeFilesAtomically, type PlannedFile } from "../certs/certs-directory.js";
import { ensureLocalCertificates } from "../certs/local-certificates.js";
import { parseLifetime } from "../certs/parse-lifetime.js";

const usage = `Usage: lockstep certs <command> [options]

Commands:
  create-ca                  a new cluster CA: <certs-dir>/ca.crt and the key at --ca-key
  create-node ID --host H... a node certificate for member ID: <certs-dir>/node.crt, node.key
  create-client NAME         a client certificate: <certs-dir>/client.NAME.crt, .key
  list                       the certificates of a certs directory, their identity and expiry
  create-local --nodes IDS   for a loopback cluster only: a CA (ca.crt, ca.key) and <certs-dir>/<id>/
                             for each node, made if missing and kept (pnpm start uses it)

Options:
  --certs-dir DIR   where certificates go (required)
  --ca-key FILE     the CA's private key (required for create-*; keep it off the nodes)
  --host H          a DNS name or IP address the node is reached at (repeat, or comma-separated)
  --lifetime L      validity with a unit: 3650d (CA default), 365d (node, client default), 8760h, 90m
  --key-type T      ecdsa-p256 (default) or ed25519: the type of the key made (create-ca,
                    create-node, create-client); the CA's own key type decides how it signs
  --overwrite       replace existing files (otherwise refused)
  --rotate          create-ca: keep the CAs already in ca.crt and add the new one (a CA bundle,
                    so nodes trust the old and the new CA during rotation)

Keys are ECDSA P-256 unless --key-type ed25519 is given (browsers accept only ECDSA or RSA
for HTTPS, so a dashboard over HTTPS needs an ECDSA CA and node certificate; both types work on
the peer port), written with mode 0600. Node certificates name the member id as the URI
SAN lockstep://node/ID; the peer port accepts a peer only if its certificate names the member
it claims to be and chains to a CA in ca.crt.
`;

type Output = { stdout: (text: string) => void; stderr: (text: string) => void };

/** `lockstep certs ...`: 0 done, 1 a file could not be read or written (or would be overwritten), 2 usage. */
export async function runCertsCommand(argv: readonly string[], output: Output): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        "certs-dir": { type: "string" },
        "ca-key": { type: "string" },
        host: { type: "string", multiple: true },
        lifetime: { type: "string" },
        "key-type": { type: "string" },
        overwrite: { type: "boolean", default: false },
        rotate: { type: "boolean", default: false },
        nodes: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    return usageError(output, error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [command, name, ...extra] = positionals;
  if (values.help === true || command === undefined) {
    output.stdout(usage);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  if (extra.length > 0) return usageError(output, `unexpected argument "${extra[0]}"`);
  const certsDirectory = values["certs-dir"];
  if (certsDirectory === undefined) return usageError(output, "--certs-dir DIR is required");
  let lifetimeDays: number | undefined;
  if (values.lifetime !== undefined) {
    const lifetime = parseLifetime(values.lifetime);
    if (!lifetime.ok) return usageError(output, `--lifetime: ${lifetime.message}`);
    lifetimeDays = lifetime.days;
  }
  const keyTypeText = values["key-type"] ?? defaultKeyType;
  if (!(keyTypes as readonly string[]).includes(keyTypeText)) return usageError(output, `--key-type: expected ${keyTypes.join(" or ")}, got "${keyTypeText}"`);
  const request: CertsRequest = {
    keyType: keyTypeText as KeyType,
    certsDirectory,
    caKeyFile: values["ca-key"],
    hosts: (values.host ?? []).flatMap((host) => host.split(",")).map((host) => host.trim()).filter((host) => host !== ""),
    lifetimeDays,
    overwrite: values.overwrite,
    rotate: values.rotate,
  };
  try {
    switch (command) {
      case "create-ca":
        return await createCa(request, output);
      case "create-node":
        if (name === undefined) return usageError(output, "create-node needs the member id: lockstep certs create-node ID --host H");
        return await createNode(request, name, output);
      case "create-client":
        if (name === undefined) return usageError(output, "create-client needs a name: lockstep certs create-client NAME");
        return await createClient(request, name, output);
      case "list":
        return listCertificates(certsDirectory, output);
      case "create-local":
        return await createLocal(request, values.nodes, output);
      default:
        return usageError(output, `unknown command "${command}"`);
    }
  } catch (error) {
    output.stderr(`lockstep certs: ${error instanceof Error ? error.message : String(error)}\n`);
    // Bad input (an invalid host or id, a key that does not match) is a usage error; files are I/O.
    return error instanceof CertsError ? 2 : 1;
  }
}

type CertsRequest = {
  keyType: KeyType;
  certsDirectory: string;
  caKeyFile: string | undefined;
  hosts: string[];
  lifetimeDays: number | undefined;
  overwrite: boolean;
  rotate: boolean;
};

async function createCa(request: CertsRequest, output: Output): Promise<number> {
  if (request.caKeyFile === undefined) return usageError(output, "--ca-key FILE is required");
  const caPath = certsPath(request.certsDirectory, certsFileNames.ca);
  if (request.rotate && !existsSync(caPath)) return fail(output, `--rotate adds a CA to ${caPath}, which does not exist`);
  // With --rotate the CAs already trusted stay in the bundle: nodes keep accepting old certificates.
  const kept = request.rotate ? readTextFile(caPath, "CA bundle") : "";
  if (request.rotate) parseCertificateBundle(kept, caPath);
  const authority = await createCertificateAuthority({ validityDays: request.lifetimeDays, keyType: request.keyType });
  const bundle = `${kept}${kept === "" || kept.endsWith("\n") ? "" : "\n"}${authority.certPem}`;
  const keyFile: PlannedFile = { path: request.caKeyFile, text: authority.keyPem, secret: true };
  const caFile: PlannedFile = { path: caPath, text: bundle, secret: false };
  if (request.rotate) {
    writeFilesAtomically([keyFile], request.overwrite);
    writeFilesAtomically([caFile], true);
  } else {
    writeFilesAtomically([keyFile, caFile], request.overwrite);
  }
  output.stdout(`${request.rotate ? "added a new CA to" : "wrote"} ${caPath}\nCA key written to ${request.caKeyFile} (mode 600)\n${describe(authority.certPem)}\n`);
  return 0;
}

async function createNode(request: CertsRequest, nodeId: string, output: Output): Promise<number> {
  if (request.caKeyFile === undefined) return usageError(output, "--ca-key FILE is required");
  if (request.hosts.length === 0) return usageError(output, "create-node needs at least one --host (the address peers and clients use)");
  const caCertPem = readTextFile(certsPath(request.certsDirectory, certsFileNames.ca), "CA certificate");
  const caKeyPem = readTextFile(request.caKeyFile, "CA key");
  const issued = await signNodeCertificate({ caCertPem, caKeyPem, nodeId, hosts: request.hosts, validityDays: request.lifetimeDays, keyType: request.keyType });
  const certPath = certsPath(request.certsDirectory, certsFileNames.nodeCert);
  const keyPath = certsPath(request.certsDirectory, certsFileNames.nodeKey);
  writeFilesAtomically(
    [
      { path: keyPath, text: issued.keyPem!, secret: true },
      { path: certPath, text: issued.certPem, secret: false },
    ],
    request.overwrite,
  );
  output.stdout(`wrote ${certPath} and ${keyPath} (mode 600)\n${describe(issued.certPem)}\n`);
  return 0;
}

async function createClient(request: CertsRequest, name: string, output: Output): Promise<number> {
  if (request.caKeyFile === undefined) return usageError(output, "--ca-key FILE is required");
  const caCertPem = readTextFile(certsPath(request.certsDirectory, certsFileNames.ca), "CA certificate");
  const caKeyPem = readTextFile(request.caKeyFile, "CA key");
  const issued = await signClientCertificate({ caCertPem, caKeyPem, name, validityDays: request.lifetimeDays, keyType: request.keyType });
  const certPath = certsPath(request.certsDirectory, certsFileNames.clientCert(name));
  const keyPath = certsPath(request.certsDirectory, certsFileNames.clientKey(name));
  writeFilesAtomically(
    [
      { path: keyPath, text: issued.keyPem!, secret: true },
      { path: certPath, text: issued.certPem, secret: false },
    ],
    request.overwrite,
  );
  output.stdout(`wrote ${certPath} and ${keyPath} (mode 600)\n${describe(issued.certPem)}\n`);
  return 0;
}

async function createLocal(request: CertsRequest, nodes: string | undefined, output: Output): Promise<number> {
  const nodeIds = (nodes ?? "").split(",").map((id) => id.trim()).filter((id) => id !== "");
  if (nodeIds.length === 0) return usageError(output, "create-local needs --nodes ID[,ID...]");
  const hosts = request.hosts.length === 0 ? ["127.0.0.1", "localhost"] : request.hosts;
  const made = await ensureLocalCertificates({ directory: request.certsDirectory, nodeIds, hosts, keyType: request.keyType });
  output.stdout(made.created.length === 0 ? `certificates in ${request.certsDirectory} are in place\n` : `created ${made.created.join(", ")}\n`);
  return 0;
}

function listCertificates(certsDirectory: string, output: Output): number {
  const names = readdirSync(certsDirectory).filter((file) => file.endsWith(".crt")).sort();
  if (names.length === 0) return fail(output, `no .crt files in ${certsDirectory}`);
  for (const name of names) {
    const path = certsPath(certsDirectory, name);
    for (const certificate of parseCertificateBundle(readTextFile(path, "certificate"), path)) {
      output.stdout(`${name}: ${describeCertificate(certificate)}\n`);
    }
  }
  return 0;
}

function describe(pem: string): string {
  return describeCertificate(new X509Certificate(pem));
}

function describeCertificate(certificate: X509Certificate): string {
  const identities = certificateIdentities(certificate).map((identity) => (identity.kind === "node" ? `node ${identity.nodeId}` : `client ${identity.name}`));
  const what = certificate.ca ? "CA" : identities.join(", ") || "no lockstep identity";
  const expired = new Date(certificate.validTo) < new Date() ? " (EXPIRED)" : "";
  return `${what}; key ${keyTypeOf(certificate.publicKey) ?? certificate.publicKey.asymmetricKeyType ?? "unknown"}; subject ${certificate.subject.replace(/\n/g, ", ")}; valid until ${new Date(certificate.validTo).toISOString()}${expired}; hosts ${hostsOf(certificate) || "none"}`;
}

function hostsOf(certificate: X509Certificate): string {
  return (certificate.subjectAltName ?? "")
    .split(", ")
    .filter((part) => part.startsWith("DNS:") || part.startsWith("IP Address:"))
    .map((part) => part.replace(/^DNS:|^IP Address:/, ""))
    .join(" ");
}

function usageError(output: Output, message: string): number {
  output.stderr(`lockstep certs: ${message}\n\n${usage}`);
  return 2;
}

function fail(output: Output, message: string): number {
  output.stderr(`lockstep certs: ${message}\n`);
  return 1;
}
