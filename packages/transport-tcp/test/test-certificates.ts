/**
 * Certificates for transport tests, made once per test file (module scope) and cached: one
 * cluster CA, one node certificate per id (ECDSA P-256, the default of `lockstep certs`; Ed25519
 * when asked). Signing takes well under a millisecond, so a file's certificates cost a few
 * milliseconds in all.
 */
import { createCertificateAuthority, signClientCertificate, signNodeCertificate, type IssuedKeyPair, type KeyType } from "@lockstep/certs";
import type { PeerTlsMaterial } from "../src/peer-tls.js";

let clusterCa: Promise<IssuedKeyPair> | undefined;
const nodeMaterial = new Map<string, Promise<PeerTlsMaterial>>();

/** The CA of this test file's cluster. */
export function testCa(): Promise<IssuedKeyPair> {
  clusterCa ??= createCertificateAuthority();
  return clusterCa;
}

/** Node `id`'s TLS material under the test CA (cached). */
export function nodeTls(id: string): Promise<PeerTlsMaterial> {
  let material = nodeMaterial.get(id);
  if (material === undefined) {
    material = issueNodeTls(id);
    nodeMaterial.set(id, material);
  }
  return material;
}

export type IssueOptions = {
  /** Another CA than the cluster's (default the test CA). */
  ca?: IssuedKeyPair;
  /** The CA bundle the node trusts (default the issuing CA's certificate). */
  caPem?: string;
  validFrom?: Date;
  validityDays?: number;
  /** The node key's type (default ECDSA P-256). */
  keyType?: KeyType;
};

/** A fresh (uncached) node certificate: for another CA, already expired, and so on. */
export async function issueNodeTls(id: string, options: IssueOptions = {}): Promise<PeerTlsMaterial> {
  const ca = options.ca ?? (await testCa());
  const issued = await signNodeCertificate({
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    nodeId: id,
    hosts: ["127.0.0.1", "localhost"],
    validFrom: options.validFrom,
    validityDays: options.validityDays,
    keyType: options.keyType,
  });
  return { caPem: options.caPem ?? ca.certPem, certPem: issued.certPem, keyPem: issued.keyPem! };
}

/** A client certificate of the test CA: valid, but not a node's. */
export async function clientTls(name: string): Promise<PeerTlsMaterial> {
  const ca = await testCa();
  const issued = await signClientCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, name });
  return { caPem: ca.certPem, certPem: issued.certPem, keyPem: issued.keyPem! };
}
