/**
 * Why the transport threw. Only starting can throw (a bad option, a port that cannot be bound);
 * once running, `send` never throws and peer trouble is counted and logged, not thrown.
 */
export type TcpTransportErrorCode = "listen_failed" | "invalid_option" | "already_closed";

export class TcpTransportError extends Error {
  override readonly name = "TcpTransportError";
  readonly code: TcpTransportErrorCode;

  constructor(code: TcpTransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
