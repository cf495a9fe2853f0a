import { createPrivateKey, sign, verify, type KeyObject, type X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContext, type TLSSocket } from "node:tls";
import { issuedByOneOf, keyTypeOf, nodeIdOfCertificate, parseCertificate, parseCertificateBundle, samePublicKey, type KeyType } from "@lockstep/certs";
import type { NodeId, SignatureAlgorithm } from "@lockstep/protocol";
import type { PeerRefusalReason } from "./peer-refusal.js";
import { TcpTransportError } from "./tcp-transport-error.js";

/** PEM texts: the CA bundle (every CA trusted, old and new during rotation), this node's certificate and key. */
export type PeerTlsMaterial = { caPem: string; certPem: string; keyPem: string };

export type PeerCheck =
  | { ok: true; peerId: NodeId; certificate: X509Certificate }
  | { ok: false; reason: PeerRefusalReason; detail: string };

/** The TLS exporter label and length that bind a Hello to its session (RFC 8446 §7.5). */
const exporterLabel = "EXPORTER-lockstep-peer-hello";
const exporterBytes = 32;
/** TLS 1.3 exporters treat an absent and an empty context alike (RFC 8446 §7.5). */
const noContext = Buffer.alloc(0);
/** Domain separation: these signatures can never be mistaken for a signature of anything else. */
const signaturePrefix = Buffer.from("lockstep peer hello v1\0", "utf8");
/** Both algorithms' signatures are 64 bytes (ECDSA in the IEEE P1363 form r || s). */
const signatureBytes = 64;
/** The Hello signature algorithm of each key type: fixed by the key, never chosen by the signer. */
const algorithmOfKeyType: Record<KeyType, SignatureAlgorithm> = { "ed25519": "ed25519", "ecdsa-p256": "ecdsa-p256-sha256" };

/**
 * This node's TLS identity on the peer port, valid as a whole or not at all: the CA bundle, a
 * certificate that chains to it and names this node (`lockstep://node/<id>`), and the matching
 * ECDSA P-256 or Ed25519 key. Only TLS 1.3. Both directions check the other side's certificate themselves
 * (`rejectUnauthorized: false`, then `checkPeer` before any frame is read), so that every refusal
 * has a precise reason for the metric and the log, and both sides apply the same rule.
 */
export class PeerTls {
  private constructor(
    readonly secureContext: SecureContext,
    readonly authorities: readonly X509Certificate[],
    readonly certificate: X509Certificate,
    private readonly key: KeyObject,
  ) {}

  /** Throws `TcpTransportError` `invalid_tls` naming what is wrong: this runs at start and on every reload. */
  static create(nodeId: NodeId, material: PeerTlsMaterial, nowMs = Date.now()): PeerTls {
    const authorities = parse(() => parseCertificateBundle(material.caPem, "the CA bundle"));
    if (!authorities.every((authority) => authority.ca)) invalid("the CA bundle holds a certificate that is not a CA");
    const certificate = parse(() => parseCertificate(material.certPem, "the node certificate"));
    const key = parse(() => createPrivateKey(material.keyPem));
    if (keyTypeOf(key) === undefined) invalid(`the node key is ${key.asymmetricKeyType ?? "unknown"}; peer keys must be ECDSA P-256 or Ed25519`);
    if (!samePublicKey(key, certificate.publicKey)) invalid("the node key does not belong to the node certificate");
    const named = nodeIdOfCertificate(certificate);
    if (named !== nodeId) invalid(`the node certificate names ${named === undefined ? "no node" : `node ${named}`}, not ${nodeId}`);
    if (!issuedByOneOf(certificate, authorities)) invalid("the node certificate was not issued by a CA of the CA bundle");
    if (Date.parse(certificate.validTo) <= nowMs) invalid(`the node certificate expired on ${certificate.validTo}`);
    const secureContext = parse(() =>
      createSecureContext({
        ca: material.caPem,
        cert: material.certPem,
        key: material.keyPem,
        minVersion: "TLSv1.3",
        maxVersion: "TLSv1.3",
      }),
    );
    return new PeerTls(secureContext, authorities, certificate, key);
  }

  /** Seconds since the epoch when this node's certificate expires (the gauge operators alert on). */
  get expiresAtSeconds(): number {
    return Math.floor(Date.parse(this.certificate.validTo) / 1000);
  }

  /**
   * After the TLS handshake, in both directions: the peer presented a certificate, it chains to
   * a CA of the bundle and is valid now, and it names exactly one member id. `expectedPeer` is
   * set when dialing: the certificate must name the member dialed.
   */
  checkPeer(socket: TLSSocket, expectedPeer?: NodeId): PeerCheck {
    const certificate = socket.getPeerX509Certificate();
    if (certificate === undefined) return { ok: false, reason: "no_certificate", detail: "the peer presented no certificate" };
    const nowMs = Date.now();
    // Checked here rather than by OpenSSL's verdict, which a server-side TLSSocket does not expose.
    // TLS itself has already proved the peer holds the certificate's key (CertificateVerify).
    if (!this.trusts(certificate, nowMs)) {
      return { ok: false, reason: "certificate_untrusted", detail: `peer certificate (issuer ${oneLine(certificate.issuer)}) was not issued by a CA of the bundle` };
    }
    if (Date.parse(certificate.validFrom) > nowMs || Date.parse(certificate.validTo) <= nowMs) {
      return { ok: false, reason: "certificate_expired", detail: `peer certificate is valid from ${certificate.validFrom} to ${certificate.validTo}` };
    }
    const peerId = nodeIdOfCertificate(certificate);
    if (peerId === undefined) return { ok: false, reason: "certificate_identity", detail: "the peer certificate names no lockstep node" };
    if (expectedPeer !== undefined && peerId !== expectedPeer) {
      return { ok: false, reason: "certificate_identity", detail: `dialed ${expectedPeer}, the certificate names ${peerId}` };
    }
    return { ok: true, peerId, certificate };
  }

  /**
   * Whether a peer certificate was signed by a CA of the bundle that is valid now (also asked
   * after a reload dropped a CA). Certificates are issued directly by a CA of the bundle: there
   * are no intermediate CAs on the peer port.
   */
  trusts(certificate: X509Certificate, nowMs = Date.now()): boolean {
    const current = this.authorities.filter((authority) => Date.parse(authority.validFrom) <= nowMs && nowMs < Date.parse(authority.validTo));
    return issuedByOneOf(certificate, current);
  }

  /** Signs `helloBytes` (the canonical Hello without `auth`) together with the session's exporter value. */
  signHello(socket: TLSSocket, helloBytes: Uint8Array): { alg: SignatureAlgorithm; sig: string } {
    return { alg: helloSignatureAlgorithm(this.key)!, sig: signHelloBytes(socket, this.key, helloBytes) };
  }
}

/** The algorithm a key signs Hellos with; undefined for a key type the peer port does not take. */
export function helloSignatureAlgorithm(key: KeyObject): SignatureAlgorithm | undefined {
  const keyType = keyTypeOf(key);
  return keyType === undefined ? undefined : algorithmOfKeyType[keyType];
}

/**
 * Verifies a peer's Hello signature: made by the key of the certificate it presented in this
 * very TLS session, over this session's exporter value. A Hello recorded from another session
 * (or another direction: `from` and `to` are signed) does not verify.
 */
export function verifyHelloSignature(socket: TLSSocket, peerCertificate: X509Certificate, helloBytes: Uint8Array, auth: { alg: SignatureAlgorithm; sig: string }): boolean {
  const signature = Buffer.from(auth.sig, "base64");
  if (signature.byteLength !== signatureBytes) return false;
  // The certificate's key decides the algorithm: a Hello that names another one is refused, so no
  // signature is ever checked under an algorithm its key was not made for.
  if (helloSignatureAlgorithm(peerCertificate.publicKey) !== auth.alg) return false;
  const message = signedMessage(socket, helloBytes);
  if (auth.alg === "ed25519") return verify(null, message, peerCertificate.publicKey, signature);
  return verify("sha256", message, { key: peerCertificate.publicKey, dsaEncoding: "ieee-p1363" }, signature);
}

/** The Hello signature with an Ed25519 or ECDSA P-256 key: what `PeerTls.signHello` computes (exported for tests that play a peer). */
export function signHelloBytes(socket: TLSSocket, privateKey: KeyObject, helloBytes: Uint8Array): string {
  const message = signedMessage(socket, helloBytes);
  if (privateKey.asymmetricKeyType === "ed25519") return sign(null, message, privateKey).toString("base64");
  return sign("sha256", message, { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64");
}

function signedMessage(socket: TLSSocket, helloBytes: Uint8Array): Buffer {
  const exported = socket.exportKeyingMaterial(exporterBytes, exporterLabel, noContext);
  return Buffer.concat([signaturePrefix, exported, helloBytes]);
}

function oneLine(name: string): string {
  return name.replace(/\n/g, ", ");
}

function parse<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TcpTransportError) throw error;
    throw new TcpTransportError("invalid_tls", `peer TLS: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function invalid(message: string): never {
  throw new TcpTransportError("invalid_tls", `peer TLS: ${message}`);
}
