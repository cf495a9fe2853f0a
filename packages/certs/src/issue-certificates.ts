import { randomBytes, webcrypto, type KeyObject, type X509Certificate, type webcrypto as WebCrypto } from "node:crypto";
import type * as X509Library from "@peculiar/x509";

type CryptoKey = WebCrypto.CryptoKey;
import { isIP } from "node:net";
import { clientIdentityUri, isValidIdentityName, nodeIdentityUri } from "./certificate-identity.js";
import { CertsError } from "./certs-error.js";
import { defaultKeyType, generateKeyPair, keyTypeOf, readPrivateKey, readPublicKey, samePublicKey, type KeyType } from "./key-pairs.js";
import { parseCertificateBundle } from "./pem-bundle.js";

/** Defaults in days, after `cockroach cert`: a long-lived CA, leaves rotated more often. */
export const certificateValidityDefaults = { caDays: 3650, nodeDays: 365, clientDays: 365 } as const;
/** Longest validity accepted: 100 years. */
export const validityDaysMax = 36_500;
/** Hosts one node certificate may name. */
export const certificateHostsMax = 64;
/**
 * Certificates start this long before they are made, so that a peer whose clock is a little
 * behind does not see a certificate "from the future" (cfssl backdates the same way).
 */
export const backdateMs = 5 * 60 * 1000;

/** WebCrypto's names for each key type: how a key is imported, and how it signs. */
const webCryptoKey = { "ed25519": { name: "Ed25519" }, "ecdsa-p256": { name: "ECDSA", namedCurve: "P-256" } } as const;
const webCryptoSigning = { "ed25519": { name: "Ed25519" }, "ecdsa-p256": { name: "ECDSA", hash: "SHA-256" } } as const;
const oidServerAuth = "1.3.6.1.5.5.7.3.1";
const oidClientAuth = "1.3.6.1.5.5.7.3.2";
const dnsNamePattern = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/;

export type IssuedKeyPair = { certPem: string; keyPem: string };
/** `keyPem` is set only when the caller gave no public key or CSR, so the key was made here. */
export type IssuedCertificate = { certPem: string; keyPem?: string };

export type ValidityOptions = {
  /** Days the certificate is valid from `validFrom` (fractions allowed). */
  validityDays?: number | undefined;
  /** Default: now minus `backdateMs`. */
  validFrom?: Date | undefined;
};

export type SubjectKeyOptions = {
  /** The subject's public key (SPKI PEM, ECDSA P-256 or Ed25519). */
  publicKeyPem?: string | undefined;
  /** Or a PKCS#10 request signed by the subject's key; its signature is checked. */
  csrPem?: string | undefined;
  /** The type of the key made here when neither is given (default `defaultKeyType`, ECDSA P-256). */
  keyType?: KeyType | undefined;
};

export type SigningAuthority = {
  /** The CA certificate, or a bundle: the one whose key is `caKeyPem` signs. */
  caCertPem: string;
  caKeyPem: string;
};

/** A new self-signed cluster CA, with an ECDSA P-256 key unless `keyType` says Ed25519. */
export async function createCertificateAuthority(options: ValidityOptions & { commonName?: string; keyType?: KeyType | undefined } = {}): Promise<IssuedKeyPair> {
  const x509 = await loadX509();
  const keyType = options.keyType ?? defaultKeyType;
  const keys = generateKeyPair(keyType);
  const privateKey = await importPrivateKey(readPrivateKey(keys.privateKeyPem, "CA key"));
  const publicKey = await importPublicKey(readPublicKey(keys.publicKeyPem, "CA public key"));
  const serialNumber = newSerialNumber();
  const { notBefore, notAfter } = validity(options, certificateValidityDefaults.caDays);
  // Each CA gets a distinct name so that old and new CAs of a rotation bundle are never confused.
  const commonName = options.commonName ?? `lockstep CA ${notBefore.toISOString().slice(0, 10)} ${serialNumber.slice(0, 8)}`;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber,
    name: [{ CN: [commonName] }],
    notBefore,
    notAfter,
    keys: { privateKey, publicKey },
    signingAlgorithm: webCryptoSigning[keyType],
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  });
  return { certPem: pemText(certificate.toString("pem")), keyPem: keys.privateKeyPem };
}

/**
 * A node certificate: SAN `lockstep://node/<nodeId>` plus every host (DNS names and IP
 * addresses), usable as server and client (it dials and accepts peer connections). This is the
 * function the join flow calls with the new node's public key or CSR.
 */
export async function signNodeCertificate(
  options: SigningAuthority & SubjectKeyOptions & ValidityOptions & { nodeId: string; hosts: readonly string[] },
): Promise<IssuedCertificate> {
  if (!isValidIdentityName(options.nodeId)) throw new CertsError("invalid_identity", `"${options.nodeId}" is not a valid node id`);
  if (options.hosts.length > certificateHostsMax) throw new CertsError("invalid_host", `at most ${certificateHostsMax} hosts, got ${options.hosts.length}`);
  const x509 = await loadX509();
  const hostNames = options.hosts.map((host) => hostName(host));
  return issueLeaf(options, {
    commonName: `node ${options.nodeId}`,
    names: [{ type: "url", value: nodeIdentityUri(options.nodeId) }, ...hostNames],
    extendedKeyUsages: [oidServerAuth, oidClientAuth],
    defaultDays: certificateValidityDefaults.nodeDays,
    x509,
  });
}

/** A client certificate for the client port: SAN `lockstep://client/<name>`, client use only. */
export async function signClientCertificate(
  options: SigningAuthority & SubjectKeyOptions & ValidityOptions & { name: string },
): Promise<IssuedCertificate> {
  if (!isValidIdentityName(options.name)) throw new CertsError("invalid_identity", `"${options.name}" is not a valid client name`);
  const x509 = await loadX509();
  return issueLeaf(options, {
    commonName: options.name,
    names: [{ type: "url", value: clientIdentityUri(options.name) }],
    extendedKeyUsages: [oidClientAuth],
    defaultDays: certificateValidityDefaults.clientDays,
    x509,
  });
}

/** A PKCS#10 request for a node certificate, signed by the node's own key (what a joining node sends). */
export async function createNodeCertificateRequest(options: { nodeId: string; privateKeyPem: string }): Promise<string> {
  if (!isValidIdentityName(options.nodeId)) throw new CertsError("invalid_identity", `"${options.nodeId}" is not a valid node id`);
  const x509 = await loadX509();
  const privateKeyObject = readPrivateKey(options.privateKeyPem, "node key");
  const { createPublicKey } = await import("node:crypto");
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [`node ${options.nodeId}`] }],
    keys: { privateKey: await importPrivateKey(privateKeyObject), publicKey: await importPublicKey(createPublicKey(privateKeyObject)) },
    signingAlgorithm: webCryptoSigning[keyTypeOf(privateKeyObject)!],
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: nodeIdentityUri(options.nodeId) }])],
  });
  return pemText(request.toString("pem"));
}

type X509Module = typeof X509Library;
type GeneralNameJson = { type: "url" | "dns" | "ip"; value: string };

async function issueLeaf(
  options: SigningAuthority & SubjectKeyOptions & ValidityOptions,
  leaf: { commonName: string; names: GeneralNameJson[]; extendedKeyUsages: string[]; defaultDays: number; x509: X509Module },
): Promise<IssuedCertificate> {
  const { x509 } = leaf;
  const authority = signingAuthority(options);
  const subject = await subjectPublicKey(options, x509);
  const { notBefore, notAfter } = validity(options, leaf.defaultDays);
  const authorityNotAfter = new Date(authority.certificate.validTo);
  if (notAfter > authorityNotAfter) {
    throw new CertsError("invalid_validity", `the certificate would outlive its CA (CA valid until ${authorityNotAfter.toISOString()})`);
  }
  const issuerCertificate = new x509.X509Certificate(authority.certificate.raw);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: newSerialNumber(),
    subject: [{ CN: [leaf.commonName] }],
    issuer: issuerCertificate.subject,
    notBefore,
    notAfter,
    publicKey: subject.publicKey,
    signingKey: await importPrivateKey(authority.key),
    // The CA's key type decides how the certificate is signed, whatever the subject's key is.
    signingAlgorithm: webCryptoSigning[keyTypeOf(authority.key)!],
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(leaf.extendedKeyUsages),
      new x509.SubjectAlternativeNameExtension(leaf.names),
      await x509.SubjectKeyIdentifierExtension.create(subject.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuerCertificate),
    ],
  });
  return { certPem: pemText(certificate.toString("pem")), ...(subject.generatedKeyPem === undefined ? {} : { keyPem: subject.generatedKeyPem }) };
}

/** The CA certificate of the bundle that belongs to the CA key. */
function signingAuthority(options: SigningAuthority): { certificate: X509Certificate; key: KeyObject } {
  const key = readPrivateKey(options.caKeyPem, "CA key");
  const certificates = parseCertificateBundle(options.caCertPem, "the CA certificate");
  const certificate = certificates.find((candidate) => samePublicKey(candidate.publicKey, key));
  if (certificate === undefined) throw new CertsError("ca_key_mismatch", "the CA key belongs to no certificate of the CA bundle");
  if (!certificate.ca) throw new CertsError("invalid_certificate", "the certificate that matches the CA key is not a CA certificate");
  if (new Date(certificate.validTo) < new Date()) throw new CertsError("invalid_certificate", `the CA expired on ${certificate.validTo}`);
  return { certificate, key };
}

async function subjectPublicKey(options: SubjectKeyOptions, x509: X509Module): Promise<{ publicKey: CryptoKey; generatedKeyPem?: string }> {
  if (options.publicKeyPem !== undefined && options.csrPem !== undefined) {
    throw new CertsError("invalid_key", "give either a public key or a CSR, not both");
  }
  if (options.publicKeyPem !== undefined) return { publicKey: await importPublicKey(readPublicKey(options.publicKeyPem, "the subject's public key")) };
  if (options.csrPem !== undefined) {
    let request: InstanceType<X509Module["Pkcs10CertificateRequest"]>;
    try {
      request = new x509.Pkcs10CertificateRequest(options.csrPem);
    } catch (error) {
      throw new CertsError("invalid_csr", "the CSR does not parse", { cause: error });
    }
    if (!(await request.verify().catch(() => false))) throw new CertsError("invalid_csr", "the CSR's signature does not verify");
    const { createPublicKey } = await import("node:crypto");
    const spki = Buffer.from(request.publicKey.rawData);
    const publicKeyObject = createPublicKey({ key: spki, format: "der", type: "spki" });
    if (keyTypeOf(publicKeyObject) === undefined) throw new CertsError("invalid_key", "the CSR's key is neither ECDSA P-256 nor Ed25519");
    return { publicKey: await importPublicKey(publicKeyObject) };
  }
  const generated = generateKeyPair(options.keyType ?? defaultKeyType);
  return {
    publicKey: await importPublicKey(readPublicKey(generated.publicKeyPem, "generated key")),
    generatedKeyPem: generated.privateKeyPem,
  };
}

function validity(options: ValidityOptions, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const days = options.validityDays ?? defaultDays;
  if (!Number.isFinite(days) || days <= 0 || days > validityDaysMax) {
    throw new CertsError("invalid_validity", `validity must be more than 0 and at most ${validityDaysMax} days, got ${days}`);
  }
  const notBefore = options.validFrom ?? new Date(Date.now() - backdateMs);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * 86_400_000) };
}

function hostName(host: string): GeneralNameJson {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  if (isIP(bare) !== 0) return { type: "ip", value: bare };
  if (!dnsNamePattern.test(host) || host.length > 253) throw new CertsError("invalid_host", `"${host}" is neither an IP address nor a DNS name`);
  return { type: "dns", value: host.toLowerCase() };
}

/** 128 random bits with the top bit clear: a positive serial, unique without any registry. */
function newSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString("hex");
}

/** Keys reach here only through `readPrivateKey`/`readPublicKey` or the CSR check, so their type is known. */
function webCryptoKeyOf(key: KeyObject): (typeof webCryptoKey)[KeyType] {
  const keyType = keyTypeOf(key);
  if (keyType === undefined) throw new CertsError("invalid_key", `a ${key.asymmetricKeyType ?? "unknown"} key; lockstep uses ECDSA P-256 or Ed25519 keys`);
  return webCryptoKey[keyType];
}

async function importPrivateKey(key: KeyObject): Promise<CryptoKey> {
  return webcrypto.subtle.importKey("pkcs8", key.export({ type: "pkcs8", format: "der" }), webCryptoKeyOf(key), false, ["sign"]);
}

async function importPublicKey(key: KeyObject): Promise<CryptoKey> {
  const publicKey = key.type === "private" ? (await import("node:crypto")).createPublicKey(key) : key;
  return webcrypto.subtle.importKey("spki", publicKey.export({ type: "spki", format: "der" }), webCryptoKeyOf(publicKey), true, ["verify"]);
}

let x509Module: Promise<X509Module> | undefined;

/**
 * @peculiar/x509 is loaded on first use, so that code which only reads identities (the transport)
 * never loads it. It needs the `reflect-metadata` polyfill and a WebCrypto provider.
 */
function loadX509(): Promise<X509Module> {
  x509Module ??= (async () => {
    await import("reflect-metadata");
    const x509 = await import("@peculiar/x509");
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  })();
  return x509Module;
}

/** PEM files end with a newline, so that certificates can be concatenated into a bundle. */
function pemText(pem: string): string {
  return pem.endsWith("\n") ? pem : `${pem}\n`;
}
