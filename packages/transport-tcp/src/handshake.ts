import type { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { encodeEnvelopeFrame, protocolVersion, type Envelope, type Goodbye, type NodeId } from "@lockstep/protocol";
import { canonicalJson } from "./canonical-json.js";
import type { PeerRefusalReason } from "./peer-refusal.js";
import { verifyHelloSignature, type PeerTls } from "./peer-tls.js";

export type GoodbyeReason = Goodbye["reason"];

export type HelloCheck = { ok: true; peerId: NodeId } | { ok: false; reason: PeerRefusalReason; detail: string };

export type HandshakeIdentity = {
  nodeId: NodeId;
  cluster: string;
  clusterUuid?: string | undefined;
  definitionHash: string;
  peerIds: ReadonlySet<NodeId>;
};

/** What the TLS layer established about the other side of one connection. */
export type PeerSession = { socket: TLSSocket; peerId: NodeId; certificate: X509Certificate };

/** Goodbye's `detail` is limited by the schema; ours are short, but a peer's claimed ids are echoed. */
const goodbyeDetailLengthMax = 512;

/**
 * The `Hello` exchange both ends of a connection perform, inside mutual TLS. Each side's Hello
 * carries, in `auth`, a signature (Ed25519 or ECDSA P-256, as the key is) by its certificate's key over the Hello and the TLS
 * session's exporter value (`PeerTls.signHello`), so a Hello is valid in one session only: a
 * recorded one, replayed on another connection, is refused. The same check runs on accepted and
 * on dialed connections.
 */
export class Handshake {
  constructor(private readonly identity: HandshakeIdentity) {}

  /** This node's Hello to `to` on this session. Re-sent as the heartbeat, so callers keep it. */
  helloFrame(tls: PeerTls, socket: TLSSocket, to: NodeId): Uint8Array {
    const { nodeId, cluster, definitionHash, clusterUuid } = this.identity;
    const hello: Envelope = {
      v: protocolVersion,
      cluster,
      from: nodeId,
      to,
      body: { type: "Hello", nodeId, cluster, protocolVersion, definitionHash, ...(clusterUuid === undefined ? {} : { clusterUuid }) },
    };
    return encodeControlFrame({ ...hello, auth: tls.signHello(socket, helloBytes(hello)) });
  }

  goodbyeFrame(to: NodeId, reason: PeerRefusalReason, detail: string): Uint8Array {
    const { nodeId, cluster } = this.identity;
    return encodeControlFrame({
      v: protocolVersion,
      cluster,
      from: nodeId,
      to,
      body: { type: "Goodbye", reason: goodbyeReason(reason), detail: `${reason}: ${detail}`.slice(0, goodbyeDetailLengthMax) },
    });
  }

  /**
   * Accepts `envelope` as the other side's Hello if it is one, from the member its certificate
   * names (a member of this cluster other than this node), speaking this protocol version,
   * running the same definition, addressed to this node, and signed for this session.
   */
  check(envelope: Envelope, session: PeerSession): HelloCheck {
    const { body } = envelope;
    if (body.type !== "Hello") return refuse("malformed", `expected Hello as the first frame, got ${body.type}`);
    if (envelope.from !== body.nodeId) return refuse("malformed", `envelope from ${envelope.from} carries a Hello for ${body.nodeId}`);
    if (body.protocolVersion !== protocolVersion) {
      return refuse("version_mismatch", `peer speaks protocol ${body.protocolVersion}; this node speaks ${protocolVersion}`);
    }
    const { cluster, definitionHash, nodeId, peerIds } = this.identity;
    if (body.cluster !== cluster || envelope.cluster !== cluster) {
      return refuse("cluster_mismatch", `peer is in cluster ${body.cluster}; this node is in ${cluster}`);
    }
    // Two clusters bootstrapped under one name never merge (DESIGN.md §9).
    const ownUuid = this.identity.clusterUuid;
    if (ownUuid !== undefined && body.clusterUuid !== undefined && body.clusterUuid !== ownUuid) {
      return refuse("cluster_mismatch", `peer is in cluster ${body.cluster} uuid ${body.clusterUuid}; this node is in uuid ${ownUuid}`);
    }
    if (body.definitionHash !== definitionHash) {
      return refuse("definition_mismatch", `peer definition ${body.definitionHash}; this node runs ${definitionHash}`);
    }
    if (body.nodeId !== session.peerId) {
      return refuse("certificate_identity", `a Hello from ${body.nodeId} over a connection whose certificate names ${session.peerId}`);
    }
    if (body.nodeId === nodeId || !peerIds.has(body.nodeId)) {
      return refuse("unknown_node", `${body.nodeId} is not a peer of ${nodeId} in cluster ${cluster}`);
    }
    if (envelope.to !== nodeId) return refuse("unknown_node", `Hello is addressed to ${envelope.to}, not ${nodeId}`);
    if (envelope.auth === undefined) return refuse("auth_failed", `unsigned Hello from ${body.nodeId}`);
    if (!verifyHelloSignature(session.socket, session.certificate, helloBytes(envelope), envelope.auth)) {
      return refuse("auth_failed", `Hello from ${body.nodeId} is not signed for this TLS session (replayed or forged)`);
    }
    return { ok: true, peerId: body.nodeId };
  }
}

/** The bytes a Hello's signature covers: its canonical JSON without `auth`. */
function helloBytes(envelope: Envelope): Uint8Array {
  const { auth: _signature, ...unsigned } = envelope;
  return Buffer.from(canonicalJson(unsigned), "utf8");
}

/** The wire's Goodbye reasons are fewer than the refusal reasons this node counts. */
function goodbyeReason(reason: PeerRefusalReason): GoodbyeReason {
  switch (reason) {
    case "cluster_mismatch":
    case "definition_mismatch":
    case "version_mismatch":
    case "unknown_node":
    case "malformed":
    case "auth_failed":
      return reason;
    case "no_certificate":
    case "certificate_untrusted":
    case "certificate_expired":
    case "certificate_identity":
    case "certificate_revoked":
    case "tls_failed":
      return "auth_failed";
    case "too_many_connections":
    case "too_many_from_source":
    case "handshake_timeout":
    case "handshake_too_large":
    case "idle_timeout":
      return "malformed";
  }
}

/** Control frames are tiny and built from validated options, so the frame limit cannot be exceeded. */
function encodeControlFrame(envelope: Envelope): Uint8Array {
  const encoded = encodeEnvelopeFrame(envelope);
  if (!encoded.ok) throw new Error(`control frame could not be encoded: ${encoded.detail}`);
  return encoded.value;
}

function refuse(reason: PeerRefusalReason, detail: string): HelloCheck {
  return { ok: false, reason, detail };
}
