export {
  certificateIdentities,
  clientIdentityPrefix,
  clientIdentityUri,
  isValidIdentityName,
  nodeIdOfCertificate,
  nodeIdentityPrefix,
  nodeIdentityUri,
  type CertificateIdentity,
} from "./certificate-identity.js";
export { CertsError, type CertsErrorCode } from "./certs-error.js";
export { defaultKeyType, generateEd25519KeyPair, generateKeyPair, keyTypeOf, keyTypes, readPrivateKey, readPublicKey, samePublicKey, type KeyType } from "./key-pairs.js";
export {
  backdateMs,
  certificateHostsMax,
  certificateValidityDefaults,
  createCertificateAuthority,
  createNodeCertificateRequest,
  signClientCertificate,
  signNodeCertificate,
  validityDaysMax,
  type IssuedCertificate,
  type IssuedKeyPair,
  type SigningAuthority,
  type SubjectKeyOptions,
  type ValidityOptions,
} from "./issue-certificates.js";
export { bundleCertificatesMax, issuedByOneOf, parseCertificate, parseCertificateBundle } from "./pem-bundle.js";
