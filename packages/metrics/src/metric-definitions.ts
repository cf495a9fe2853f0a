import type { CounterName, GaugeName, HistogramName } from "./metrics-sink.js";

/**
 * Bucket upper bounds in seconds, from 10 µs (one message decoded and stepped on a fast machine)
 * to 10 s (an fsync on a struggling disk, a large snapshot). Roughly three buckets per decade,
 * so a percentile read from them is within a factor of about two.
 */
export const secondsBuckets: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
  1, 2.5, 5, 10,
];

type Definition = { help: string; labelNames: readonly string[] };

/** Every counter of DESIGN.md §7: its labels and the HELP line an operator reads in the exposition. */
export const counterDefinitions: Readonly<Record<CounterName, Definition>> = {
  messages_sent_total: {
    help: "Peer messages handed to the network (written to a peer connection), by message type and destination peer.",
    labelNames: ["type", "peer"],
  },
  message_delivery_failures_total: {
    help: "Peer messages dropped without being written: queue full, peer unreachable after all retries, oversized, transport closed.",
    labelNames: ["type", "peer", "reason"],
  },
  message_retries_total: {
    help: "Delivery retries of peer messages that found the connection to their peer down.",
    labelNames: ["type", "peer"],
  },
  messages_received_total: {
    help: "Valid peer messages received, by message type and sending peer.",
    labelNames: ["type", "peer"],
  },
  messages_invalid_total: {
    help: "Frames from peers that failed validation (bad length, not JSON, schema, wrong sender or recipient); each closes its connection.",
    labelNames: ["reason", "peer"],
  },
  messages_dropped_total: {
    help: "Peer messages the consensus core dropped because it cannot accept them (not a member, a term past the bound, entries of a later term than their message, an index beyond the log, a snapshot that does not verify), by message type and reason.",
    labelNames: ["type", "reason"],
  },
  peer_connections_refused_total: {
    help: "Peer connections refused or closed by this node, by reason: connection limits (too_many_connections, too_many_from_source), TLS and certificates (tls_failed, no_certificate, certificate_untrusted, certificate_expired, certificate_identity, certificate_revoked), the Hello (handshake_timeout, handshake_too_large, auth_failed, malformed, version_mismatch, cluster_mismatch, definition_mismatch, unknown_node) and idle_timeout.",
    labelNames: ["reason"],
  },
  peer_tls_reloads_total: {
    help: "Reloads of the peer port's CA bundle, certificate and key (SIGHUP or a changed file), by result: ok, failed (the old material stays in use).",
    labelNames: ["result"],
  },
  client_tls_reloads_total: {
    help: "Reloads of the client port's certificate, key and client CA bundle (SIGHUP or a changed file), by result: ok, failed (the old material stays in use).",
    labelNames: ["result"],
  },
  proposals_total: {
    help: "Client transition requests answered by this node, by result: ok, invalid_transition, expect_failed, session_expired, timeout, no_quorum, shutting_down, overloaded.",
    labelNames: ["result"],
  },
  transitions_total: {
    help: "Applied state transitions by source state, target state and result (ok, invalid_transition, expect_failed, quota_exceeded, session_expired, request_id_reused). Labels take only values the definition names: from is a state, to a state from may move to; anything else is other.",
    labelNames: ["from", "to", "result"],
  },
  session_expirations_total: {
    help: "Client sessions the store expired, by reason: capacity (sessionsMax reached at a registration) or idle (no request for sessionIdleEntriesMax entries).",
    labelNames: ["reason"],
  },
  session_refusals_total: {
    help: "Writes the store refused for their session, by reason: unknown_session, seq_below_window, request_id_reused.",
    labelNames: ["reason"],
  },
  sessions_registered_total: {
    help: "Client sessions registered through the log (applied on this node).",
    labelNames: [],
  },
  leader_changes_total: {
    help: "Times this node saw the cluster's leader change (including to no leader).",
    labelNames: [],
  },
  wal_bytes_written_total: {
    help: "Bytes appended to the write-ahead log.",
    labelNames: ["fsync_policy"],
  },
  wal_fsyncs_total: {
    help: "fsync calls on the write-ahead log (one per group commit).",
    labelNames: ["fsync_policy"],
  },
  client_refusals_total: {
    help: "Client-port requests and connections refused (open sockets closed included): no token, invalid, revoked or expired token, role or key prefix not covering the request, Host or Origin not allowed, a state-changing request that is not application/json, too many connections from one address, a failed TLS handshake, a missing or untrusted client certificate.",
    labelNames: ["reason"],
  },
  client_streams_cut_total: {
    help: "Watch, dashboard and rpc sockets cut because the node-wide buffer budget (clientBufferedBytesMax) was spent while they lagged.",
    labelNames: ["stream"],
  },
  client_requests_total: {
    help: "Client API requests received, by transport: http (one HTTP request) or rpc (one request frame on a /v1/rpc connection); refused ones included.",
    labelNames: ["transport"],
  },
};

export const histogramDefinitions: Readonly<Record<HistogramName, Definition>> = {
  message_processing_seconds: {
    help: "Time to process one inbound peer message (decode, step the core), by message type.",
    labelNames: ["type"],
  },
  entry_stage_seconds: {
    help: "Latency of a log entry through each stage, from proposal: persist, replicate, commit, apply.",
    labelNames: ["stage"],
  },
  wal_fsync_seconds: {
    help: "Duration of one write-ahead log fsync.",
    labelNames: ["fsync_policy"],
  },
  snapshot_seconds: {
    help: "Duration of taking (or installing) one snapshot.",
    labelNames: ["fsync_policy"],
  },
};

export const gaugeDefinitions: Readonly<Record<GaugeName, Definition>> = {
  cluster_members: { help: "Voting members of the cluster as this node knows them.", labelNames: [] },
  peers_connected: {
    help: "Peers this node has an open, handshaken outbound connection to.",
    labelNames: [],
  },
  term: { help: "This node's current Raft term.", labelNames: [] },
  commit_index: { help: "Highest log index this node knows to be committed.", labelNames: [] },
  applied_index: { help: "Highest log index applied to this node's state machine.", labelNames: [] },
  is_leader: { help: "1 if this node is the leader, else 0.", labelNames: [] },
  wal_segments: { help: "Write-ahead log segment files on disk.", labelNames: ["fsync_policy"] },
  send_queue_messages: {
    help: "Messages waiting in the send queue to each peer (bounded; full queues drop their oldest).",
    labelNames: ["peer"],
  },
  state_keys: { help: "Keys held in the replicated store (counted against state_keys_max).", labelNames: [] },
  state_bytes: { help: "Bytes of replicated state: each key's and state's UTF-8 length plus 16 (counted against state_bytes_max).", labelNames: [] },
  state_keys_max: { help: "The keysMax quota in force (replicated).", labelNames: [] },
  state_bytes_max: { help: "The stateBytesMax quota in force (replicated).", labelNames: [] },
  sessions_active: { help: "Client sessions the store holds.", labelNames: [] },
  sessions_max: { help: "The sessionsMax limit in force (replicated).", labelNames: [] },
  peer_certificate_expiry_timestamp_seconds: {
    help: "When this node's peer certificate expires, in seconds since the epoch: alert well before it.",
    labelNames: [],
  },
  client_certificate_expiry_timestamp_seconds: {
    help: "When the certificate this node's client port (HTTPS) presents expires, in seconds since the epoch: alert well before it.",
    labelNames: [],
  },
};
