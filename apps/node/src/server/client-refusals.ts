/**
 * Why the client port refused a request or connection: the values of
 * `lockstep_client_refusals_total{reason}`, a closed set so that a stranger cannot grow the series.
 */
export const clientRefusalReasons = [
  "unauthenticated",
  "invalid_token",
  "token_expired",
  "forbidden_role",
  "forbidden_prefix",
  "host_not_allowed",
  "origin_not_allowed",
  "content_type",
  "too_many_connections",
  "tls_handshake",
  "no_client_certificate",
  "client_certificate_untrusted",
] as const;
export type ClientRefusalReason = (typeof clientRefusalReasons)[number];

/** Counts one refusal (the node wires it to the metric). */
export type CountClientRefusal = (reason: ClientRefusalReason) => void;
