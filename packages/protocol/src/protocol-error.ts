/**
 * Why this package threw. Only misuse throws (an option out of range, input pushed after the
 * stream ended); bad bytes from a peer never do: they come back as a `DecodeResult` failure.
 */
export type ProtocolErrorCode = "invalid_option" | "parser_ended";

export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
