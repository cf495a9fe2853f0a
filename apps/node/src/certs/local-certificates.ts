import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createCertificateAuthority, issuedByOneOf, nodeIdOfCertificate, parseCertificateBundle, signNodeCertificate, type KeyType } from "@lockstep/certs";
import { certsFileNames, writeFilesAtomically } from "./certs-directory.js";

export type NodeCertificateFiles = { caFile: string; certFile: string; keyFile: string };

export type LocalCertificates = {
  caKeyFile: string;
  caFile: string;
  nodes: Record<string, NodeCertificateFiles>;
  /** What this call made: nothing on a run after the first (unless a certificate was missing or stale). */
  created: string[];
};

/** A node certificate this close to expiry is renewed by the next `pnpm start`. */
const renewBeforeMs = 7 * 86_400_000;

/**
 * A loopback cluster's certificates in `directory`: a CA (`ca.crt`, `ca.key`) and one
 * directory per node (`<id>/ca.crt`, `node.crt`, `node.key`) in the `lockstep certs` layout.
 * Made on first run and kept after; a node certificate that is missing, does not chain to the CA,
 * names another member or is about to expire is issued again. Only for a loopback cluster: the
 * CA key sits beside the node keys, which a production cluster must never do.
 */
export async function ensureLocalCertificates(options: {
  directory: string;
  nodeIds: readonly string[];
  hosts: readonly string[];
  /** The type of the keys made here (default ECDSA P-256); certificates already in place are kept whatever theirs. */
  keyType?: KeyType;
}): Promise<LocalCertificates> {
  const { directory } = options;
  const caFile = join(directory, certsFileNames.ca);
  const caKeyFile = join(directory, "ca.key");
  const created: string[] = [];
  if (!existsSync(caFile) || !existsSync(caKeyFile)) {
    const authority = await createCertificateAuthority({ keyType: options.keyType });
    writeFilesAtomically(
      [
        { path: caKeyFile, text: authority.keyPem, secret: true },
        { path: caFile, text: authority.certPem, secret: false },
      ],
      true,
    );
    created.push(caFile);
  }
  const caCertPem = readFileSync(caFile, "utf8");
  const caKeyPem = readFileSync(caKeyFile, "utf8");
  const authorities = parseCertificateBundle(caCertPem, caFile);
  const nodes: Record<string, NodeCertificateFiles> = {};
  for (const nodeId of options.nodeIds) {
    const nodeDirectory = join(directory, nodeId);
    const files = {
      caFile: join(nodeDirectory, certsFileNames.ca),
      certFile: join(nodeDirectory, certsFileNames.nodeCert),
      keyFile: join(nodeDirectory, certsFileNames.nodeKey),
    };
    nodes[nodeId] = files;
    if (!existsSync(files.caFile) || readFileSync(files.caFile, "utf8") !== caCertPem) {
      writeFilesAtomically([{ path: files.caFile, text: caCertPem, secret: false }], true);
    }
    if (isUsable(files, nodeId, authorities)) continue;
    const issued = await signNodeCertificate({ caCertPem, caKeyPem, nodeId, hosts: options.hosts, keyType: options.keyType });
    writeFilesAtomically(
      [
        { path: files.keyFile, text: issued.keyPem!, secret: true },
        { path: files.certFile, text: issued.certPem, secret: false },
      ],
      true,
    );
    created.push(files.certFile);
  }
  return { caKeyFile, caFile, nodes, created };
}

function isUsable(files: NodeCertificateFiles, nodeId: string, authorities: readonly X509Certificate[]): boolean {
  if (!existsSync(files.certFile) || !existsSync(files.keyFile)) return false;
  try {
    const certificate = new X509Certificate(readFileSync(files.certFile));
    return (
      nodeIdOfCertificate(certificate) === nodeId &&
      issuedByOneOf(certificate, authorities) &&
      Date.parse(certificate.validTo) - Date.now() > renewBeforeMs
    );
  } catch {
    // A file that does not parse is replaced, like a missing one.
    return false;
  }
}
