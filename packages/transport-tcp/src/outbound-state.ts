import type { TLSSocket } from "node:tls";
import type { TimerHandle } from "@lockstep/consensus";
import type { FramedConnection } from "./framed-connection.js";
import type { PeerSession } from "./handshake.js";

/**
 * The lifecycle of the one outbound connection to a peer, as one value (ws's `readyState` is
 * the model). Each state holds exactly what exists in it, so no flag can contradict another:
 *
 * - `idle`: not started.
 * - `connecting`: TCP and TLS under way; `deadline` bounds them and the Hello together.
 * - `handshaking`: TLS done and the peer's certificate accepted; this node's Hello is sent and
 *   the peer's awaited.
 * - `open`: both Hellos accepted; messages flow. `blocked` while the socket asks us to wait for 'drain'.
 * - `closing`: the socket is going away; its 'close' moves the peer to `backoff` (or `closed`).
 * - `backoff`: waiting `reconnectDelay(attempt)` before dialing again.
 * - `closed`: `close()` was called; terminal.
 */
export type OutboundState =
  | { kind: "idle" }
  | { kind: "connecting"; socket: TLSSocket; connection: FramedConnection; deadline: TimerHandle }
  | { kind: "handshaking"; socket: TLSSocket; connection: FramedConnection; deadline: TimerHandle; session: PeerSession; helloFrame: Uint8Array }
  | { kind: "open"; socket: TLSSocket; connection: FramedConnection; session: PeerSession; blocked: boolean }
  | { kind: "closing"; connection: FramedConnection; wasOpen: boolean }
  | { kind: "backoff"; timer: TimerHandle; delayMs: number }
  | { kind: "closed" };

export type OutboundStateKind = OutboundState["kind"];

/** Every transition the peer may make; anything else is a bug and fails loudly. */
const allowedTransitions: Readonly<Record<OutboundStateKind, readonly OutboundStateKind[]>> = {
  idle: ["connecting", "closed"],
  connecting: ["handshaking", "closing", "closed"],
  handshaking: ["open", "closing", "closed"],
  open: ["open", "closing", "closed"],
  closing: ["backoff", "closed"],
  backoff: ["connecting", "closed"],
  closed: [],
};

export function assertTransition(from: OutboundStateKind, to: OutboundStateKind): void {
  if (!allowedTransitions[from].includes(to)) throw new Error(`outbound peer: no transition from ${from} to ${to}`);
}
