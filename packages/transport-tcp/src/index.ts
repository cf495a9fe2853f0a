export { TcpTransport } from "./tcp-transport.js";
export { TcpTransportError, type TcpTransportErrorCode } from "./tcp-transport-error.js";
export { tcpTransportDefaults, type PeerAddress, type TcpTransportOptions } from "./tcp-transport-options.js";
export { exponentialBackoff, type BackoffOptions } from "./reconnect-delay.js";
export { writeBatchBytesMax, type DeliveryFailureReason } from "./outbound-peer.js";
export { unknownPeerLabel } from "./inbound-connection.js";
export { MessageAuth, generateAuthKeyPair, publicKeyOf, type AuthCheck } from "./message-auth.js";
