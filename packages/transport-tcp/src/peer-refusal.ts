/**
 * Why this node refused or closed a peer connection: the `reason` label of
 * `peer_connections_refused_total`. A closed list, so a stranger cannot grow the label set.
 */
export const peerRefusalReasons = [
  // Before TLS: the connection is dropped at once, no TLS work is done for it.
  "too_many_connections",
  "too_many_from_source",
  // The TLS handshake and the certificate.
  "tls_failed",
  "no_certificate",
  "certificate_untrusted",
  "certificate_expired",
  "certificate_identity",
  // The Hello.
  "handshake_timeout",
  "handshake_too_large",
  "auth_failed",
  "malformed",
  "version_mismatch",
  "cluster_mismatch",
  "definition_mismatch",
  "unknown_node",
  // A CA bundle reload no longer trusts the peer's certificate.
  "certificate_revoked",
  // An established connection went silent.
  "idle_timeout",
] as const;

export type PeerRefusalReason = (typeof peerRefusalReasons)[number];
