import { createPrivateKey, X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContextOptions, type TLSSocket } from "node:tls";
import { issuedByOneOf, parseCertificate, parseCertificateBundle, samePublicKey } from "@lockstep/certs";

/** PEM texts of the client port's certificate (leaf first, then its chain), key and (for client certificates) CAs. */
export interface ApiTls {
  cert: string;
  key: string;
  /** When given, a client must present a certificate signed by one of these. */
  ca?: string;
}

/** The client port's TLS files are unusable: at start the node does not start, on a reload the old ones stay. */
export class ClientTlsError extends Error {
  override readonly name = "ClientTlsError";
  readonly code = "invalid_tls";
}

/** What a validated set of client-port files holds. */
export interface CheckedClientTls {
  readonly tls: ApiTls;
  /** The certificate the port presents. */
  readonly certificate: X509Certificate;
  /** The client CAs, when client certificates are required. */
  readonly authorities: readonly X509Certificate[] | undefined;
}

/** Links of a presented client chain followed when checking it against a new CA bundle. */
const clientChainLinksMax = 8;

/**
 * Checks the client port's files as a whole: the certificate parses and has not expired, the
 * key is the certificate's, the client CA bundle (if any) holds only CAs, and OpenSSL accepts
 * them together. Throws `ClientTlsError` naming what is wrong; this runs at start and on every
 * reload, so a reload never puts half a change in use.
 */
export function checkClientTls(tls: ApiTls, nowMs = Date.now()): CheckedClientTls {
  const certificate = parse(() => parseCertificate(tls.cert, "the client-port certificate"));
  const key = parse(() => createPrivateKey(tls.key));
  if (!samePublicKey(key, certificate.publicKey)) invalid("the client-port key does not belong to the client-port certificate");
  if (Date.parse(certificate.validTo) <= nowMs) invalid(`the client-port certificate expired on ${certificate.validTo}`);
  const authorities = tls.ca === undefined ? undefined : parse(() => parseCertificateBundle(tls.ca!, "the client CA bundle"));
  if (authorities !== undefined && !authorities.every((authority) => authority.ca)) invalid("the client CA bundle holds a certificate that is not a CA");
  parse(() => createSecureContext(secureContextOptions(tls)));
  return { tls, certificate, authorities };
}

/** The TLS options of the client port: TLS 1.2 or later, and the client CAs when given. */
export function secureContextOptions(tls: ApiTls): SecureContextOptions {
  return { cert: tls.cert, key: tls.key, minVersion: "TLSv1.2", ...(tls.ca === undefined ? {} : { ca: tls.ca }) };
}

/**
 * Whether the client certificate a TLS socket presented (leaf, then the chain it sent) reaches
 * one of `authorities`: asked after a reload changed the client CA bundle, since OpenSSL's
 * verdict on the socket was given against the bundle of its handshake.
 */
export function presentedChainReaches(socket: TLSSocket, authorities: readonly X509Certificate[]): boolean {
  let link = socket.getPeerCertificate(true);
  for (let links = 0; links < clientChainLinksMax && link !== undefined && link.raw !== undefined; links++) {
    const certificate = new X509Certificate(link.raw);
    if (issuedByOneOf(certificate, authorities)) return true;
    const issuer = link.issuerCertificate;
    if (issuer === undefined || issuer === link) return false;
    link = issuer;
  }
  return false;
}

function parse<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ClientTlsError) throw error;
    throw new ClientTlsError(`client TLS: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function invalid(message: string): never {
  throw new ClientTlsError(`client TLS: ${message}`);
}
