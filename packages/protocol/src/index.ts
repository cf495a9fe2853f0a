export * from "./ids.js";
export * from "./commands.js";
export * from "./messages.js";
export * from "./client-api.js";
export * from "./token-commands.js";
export * from "./membership-api.js";
export {
  decodeDetailLengthMax,
  decodeEnvelope,
  decodeFailureReasons,
  encodeEnvelope,
  type DecodeFailureReason,
  type DecodeResult,
} from "./envelope-codec.js";
export {
  defaultFrameBytesMax,
  encodeEnvelopeFrame,
  encodeFrame,
  frameLengthPrefixBytes,
  type EncodeFrameFailureReason,
  type EncodeFrameResult,
  type FrameOptions,
} from "./frame.js";
export { FrameParser, type FrameParserEvent, type FrameParserOptions, type FrameParserState } from "./frame-parser.js";
export { ProtocolError, type ProtocolErrorCode } from "./protocol-error.js";
export {
  decodeRpcAnswerFrame,
  decodeRpcRequestFrame,
  rpcFrameOverheadBytes,
  rpcPath,
  rpcPathLengthMax,
  RpcAnswerFrameSchema,
  RpcMethodSchema,
  RpcRequestFrameSchema,
  type RpcAnswerFrame,
  type RpcFrameDecodeResult,
  type RpcMethod,
  type RpcRequestFrame,
} from "./rpc-frame.js";
export { tickCork, type Corkable } from "./tick-cork.js";
