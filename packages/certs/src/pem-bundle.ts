import { X509Certificate } from "node:crypto";
import { CertsError } from "./certs-error.js";

/** A CA bundle larger than this is a configuration mistake, not a rotation. */
export const bundleCertificatesMax = 64;

const pemCertificatePattern = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Every certificate of a PEM bundle (a CA file may hold the old and the new CA during rotation).
 * Throws `CertsError` `invalid_certificate` naming `source` when the text holds none, too many,
 * or one that does not parse.
 */
export function parseCertificateBundle(pem: string, source: string): X509Certificate[] {
  const blocks = pem.match(pemCertificatePattern) ?? [];
  if (blocks.length === 0) throw new CertsError("invalid_certificate", `${source} holds no PEM certificate`);
  if (blocks.length > bundleCertificatesMax) {
    throw new CertsError("invalid_certificate", `${source} holds ${blocks.length} certificates; at most ${bundleCertificatesMax}`);
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new CertsError("invalid_certificate", `certificate ${index + 1} of ${source} does not parse`, { cause: error });
    }
  });
}

/** The first certificate of a PEM text (a leaf file may carry its chain after it). */
export function parseCertificate(pem: string, source: string): X509Certificate {
  return parseCertificateBundle(pem, source)[0]!;
}

/** Whether `certificate` was signed by one of `authorities` (signature and issuer name). */
export function issuedByOneOf(certificate: X509Certificate, authorities: readonly X509Certificate[]): boolean {
  return authorities.some((authority) => certificate.checkIssued(authority) && certificate.verify(authority.publicKey));
}
