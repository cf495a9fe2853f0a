import type { AuthCheck, MessageAuth } from "./message-auth.js";
import { encodeEnvelopeFrame, protocolVersion, type Envelope, type Goodbye, type NodeId } from "@lockstep/protocol";

export type GoodbyeReason = Goodbye["reason"];

export type HelloCheck = { ok: true; peerId: NodeId } | { ok: false; reason: GoodbyeReason; detail: string };

export type HandshakeIdentity = {
  nodeId: NodeId;
  cluster: string;
  definitionHash: string;
  peerIds: ReadonlySet<NodeId>;
};

/** Goodbye's `detail` is limited by the schema; ours are short, but a peer's claimed ids are echoed. */
const goodbyeDetailLengthMax = 512;

/**
 * The `Hello` exchange both ends of a connection perform: what this node says, and what it
 * accepts from the other side. The same check runs on accepted and on dialed connections.
 */
export class Handshake {
  private readonly helloFrames = new Map<NodeId, Uint8Array>();

  constructor(
    private readonly identity: HandshakeIdentity,
    /** When set, this node's control frames are signed and every frame from a peer must verify. */
    readonly auth?: MessageAuth,
  ) {}

  /** This node's Hello to `to`, encoded once: it is also re-sent as the connection heartbeat. */
  helloFrame(to: NodeId): Uint8Array {
    let frame = this.helloFrames.get(to);
    if (frame === undefined) {
      const { nodeId, cluster, definitionHash } = this.identity;
      frame = this.encodeControlFrame({
        v: protocolVersion,
        cluster,
        from: nodeId,
        to,
        body: { type: "Hello", nodeId, cluster, protocolVersion, definitionHash },
      });
      this.helloFrames.set(to, frame);
    }
    return frame;
  }

  goodbyeFrame(to: NodeId, reason: GoodbyeReason, detail: string): Uint8Array {
    const { nodeId, cluster } = this.identity;
    return this.encodeControlFrame({
      v: protocolVersion,
      cluster,
      from: nodeId,
      to,
      body: { type: "Goodbye", reason, detail: detail.slice(0, goodbyeDetailLengthMax) },
    });
  }

  /** Checks a frame's signature when authentication is on; always passes when it is off. */
  verify(envelope: Envelope): AuthCheck {
    return this.auth === undefined ? { ok: true } : this.auth.verify(envelope);
  }

  /** Control frames are tiny and built from validated options, so the frame limit cannot be exceeded. */
  private encodeControlFrame(envelope: Envelope): Uint8Array {
    const encoded = encodeEnvelopeFrame(this.auth === undefined ? envelope : this.auth.sign(envelope));
    if (!encoded.ok) throw new Error(`control frame could not be encoded: ${encoded.detail}`);
    return encoded.value;
  }

  /**
   * Accepts `envelope` as the other side's Hello if it is one, from a member of this cluster
   * (other than this node) that speaks this protocol version and runs the same definition.
   * `expectedPeer` is set on a dialed connection: the node that answers must be the one dialed.
   */
  check(envelope: Envelope, expectedPeer?: NodeId): HelloCheck {
    const { body } = envelope;
    if (body.type !== "Hello") return refuse("malformed", `expected Hello as the first frame, got ${body.type}`);
    if (envelope.from !== body.nodeId) {
      return refuse("malformed", `envelope from ${envelope.from} carries a Hello for ${body.nodeId}`);
    }
    if (body.protocolVersion !== protocolVersion) {
      return refuse("version_mismatch", `peer speaks protocol ${body.protocolVersion}; this node speaks ${protocolVersion}`);
    }
    const { cluster, definitionHash, nodeId, peerIds } = this.identity;
    if (body.cluster !== cluster || envelope.cluster !== cluster) {
      return refuse("cluster_mismatch", `peer is in cluster ${body.cluster}; this node is in ${cluster}`);
    }
    if (body.definitionHash !== definitionHash) {
      return refuse("definition_mismatch", `peer definition ${body.definitionHash}; this node runs ${definitionHash}`);
    }
    if (body.nodeId === nodeId || !peerIds.has(body.nodeId)) {
      return refuse("unknown_node", `${body.nodeId} is not a peer of ${nodeId} in cluster ${cluster}`);
    }
    if (expectedPeer !== undefined && body.nodeId !== expectedPeer) {
      return refuse("unknown_node", `dialed ${expectedPeer} but ${body.nodeId} answered`);
    }
    if (envelope.to !== nodeId) return refuse("unknown_node", `Hello is addressed to ${envelope.to}, not ${nodeId}`);
    const signed = this.verify(envelope);
    if (!signed.ok) return refuse("auth_failed", signed.detail);
    return { ok: true, peerId: body.nodeId };
  }
}

function refuse(reason: GoodbyeReason, detail: string): HelloCheck {
  return { ok: false, reason, detail };
}

