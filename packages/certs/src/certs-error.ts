/**
 * Why issuing or reading a certificate failed. Bad input (a key that does not match, a CSR whose
 * signature is wrong, an id the identity rule cannot carry) is reported with one of these codes
 * and a message that names the part to fix.
 */
export type CertsErrorCode =
  | "invalid_identity"
  | "invalid_host"
  | "invalid_validity"
  | "invalid_key"
  | "invalid_certificate"
  | "invalid_csr"
  | "ca_key_mismatch";

export class CertsError extends Error {
  override readonly name = "CertsError";
  readonly code: CertsErrorCode;

  constructor(code: CertsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
