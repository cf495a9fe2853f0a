/**
 * The sink the other packages report through, declared here as this package's own types so that
 * `@lockstep/metrics` depends on none of ours. It is the same shape as `MetricsSink` in
 * `@lockstep/consensus` (a test asserts both ways that the name unions are equal), so a value of
 * this package's sink is accepted wherever consensus asks for one. Names are the DESIGN.md §7
 * names without the prefix.
 */
export const counterNames = [
  "messages_sent_total",
  "message_delivery_failures_total",
  "message_retries_total",
  "messages_received_total",
  "messages_invalid_total",
  "messages_dropped_total",
  "peer_connections_refused_total",
  "peer_tls_reloads_total",
  "client_tls_reloads_total",
  "proposals_total",
  "transitions_total",
  "session_expirations_total",
  "session_refusals_total",
  "sessions_registered_total",
  "leader_changes_total",
  "wal_bytes_written_total",
  "wal_fsyncs_total",
  "client_refusals_total",
  "client_streams_cut_total",
  "client_requests_total",
] as const;
export type CounterName = (typeof counterNames)[number];

export const histogramNames = [
  "message_processing_seconds",
  "entry_stage_seconds",
  "wal_fsync_seconds",
  "snapshot_seconds",
] as const;
export type HistogramName = (typeof histogramNames)[number];

export const gaugeNames = [
  "cluster_members",
  "peers_connected",
  "term",
  "commit_index",
  "applied_index",
  "is_leader",
  "wal_segments",
  "send_queue_messages",
  "state_keys",
  "state_bytes",
  "state_keys_max",
  "state_bytes_max",
  "sessions_active",
  "sessions_max",
  "peer_certificate_expiry_timestamp_seconds",
  "client_certificate_expiry_timestamp_seconds",
] as const;
export type GaugeName = (typeof gaugeNames)[number];

export type MetricName = CounterName | HistogramName | GaugeName;

export type MetricLabels = Readonly<Record<string, string>>;

export interface MetricsSink {
  increment(name: CounterName, labels?: MetricLabels, by?: number): void;
  observe(name: HistogramName, labels: MetricLabels, value: number): void;
  set(name: GaugeName, labels: MetricLabels, value: number): void;
}

/** The one logger method this package needs; pino loggers and consensus's `Logger` satisfy it. */
export interface MetricsLogger {
  warn(fields: object, message: string): void;
}
