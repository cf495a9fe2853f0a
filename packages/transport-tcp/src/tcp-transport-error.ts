/**
 * Why the transport threw. Only starting (a bad option, unusable TLS material, a port that cannot be
 * bound) and `reloadTls` (unusable material: the old stays in use) can throw;
 * once running, `send` never throws and peer trouble is counted and logged, not thrown.
 */
export type TcpTransportErrorCode = "listen_failed" | "invalid_option" | "invalid_tls" | "already_closed";

export class TcpTransportError extends Error {
  override readonly name = "TcpTransportError";
  readonly code: TcpTransportErrorCode;

  constructor(code: TcpTransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
