import type { X509Certificate } from "node:crypto";

/**
 * The identity rule. A node certificate names its member id in a URI subject alternative name
 * `lockstep://node/<id>`; a client certificate names its user as `lockstep://client/<name>`.
 * The peer port accepts only the first kind, and only when the id is the member the connection
 * claims to be. A URI SAN (rather than the common name or a DNS name) keeps identity apart from
 * addresses: a node can move to another host without a new identity, and no DNS name can be
 * mistaken for a member id.
 */
export const nodeIdentityPrefix = "lockstep://node/";
export const clientIdentityPrefix = "lockstep://client/";

/** The same alphabet as a node id in @lockstep/protocol: it must survive a URI unescaped. */
const identityNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export type CertificateIdentity = { kind: "node"; nodeId: string } | { kind: "client"; name: string };

export function isValidIdentityName(name: string): boolean {
  return identityNamePattern.test(name);
}

export function nodeIdentityUri(nodeId: string): string {
  return `${nodeIdentityPrefix}${nodeId}`;
}

export function clientIdentityUri(name: string): string {
  return `${clientIdentityPrefix}${name}`;
}

/**
 * The lockstep identities a certificate names (usually one). Reads the SAN extension only;
 * never throws on a certificate that has none or on names it does not understand.
 */
export function certificateIdentities(certificate: X509Certificate): CertificateIdentity[] {
  const identities: CertificateIdentity[] = [];
  for (const uri of subjectAltNameUris(certificate)) {
    if (uri.startsWith(nodeIdentityPrefix)) {
      const nodeId = uri.slice(nodeIdentityPrefix.length);
      if (isValidIdentityName(nodeId)) identities.push({ kind: "node", nodeId });
    } else if (uri.startsWith(clientIdentityPrefix)) {
      const name = uri.slice(clientIdentityPrefix.length);
      if (isValidIdentityName(name)) identities.push({ kind: "client", name });
    }
  }
  return identities;
}

/** The one member id a node certificate names, or undefined when it names none or several. */
export function nodeIdOfCertificate(certificate: X509Certificate): string | undefined {
  const nodeIds = certificateIdentities(certificate).flatMap((identity) => (identity.kind === "node" ? [identity.nodeId] : []));
  return nodeIds.length === 1 ? nodeIds[0] : undefined;
}

/**
 * `subjectAltName` is node's OpenSSL rendering: `URI:lockstep://node/n1, DNS:localhost, IP
 * Address:127.0.0.1`. Names are separated by ", " and a URI of our alphabet contains neither a
 * comma nor a quote, so splitting is exact for every name this rule accepts.
 */
function subjectAltNameUris(certificate: X509Certificate): string[] {
  const rendered = certificate.subjectAltName;
  if (rendered === undefined) return [];
  return rendered
    .split(", ")
    .filter((part) => part.startsWith("URI:"))
    .map((part) => part.slice("URI:".length));
}
