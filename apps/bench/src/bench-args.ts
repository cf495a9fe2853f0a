import { parseArgs } from "node:util";

export interface BenchArgs {
  mode: "cluster" | "in-process";
  vsEtcd: boolean;
  seconds: number;
  warmupSeconds: number;
  concurrencies: number[];
  profile: boolean;
  /** Where results (JSON, markdown, profiles) go, relative to the repository root unless absolute. */
  outDirectory: string;
  /** Where the SVG chart goes (cluster mode), or null for none. */
  chartPath: string | null;
  /** Parent of the clusters' data directories; default under the repository (the same disk as the code). */
  dataDirectory: string | null;
  keepData: boolean;
  help: boolean;
}

export const defaultClusterConcurrencies = [1, 16, 128, 256];
export const defaultInProcessConcurrencies = [1, 64, 256, 1024];
/** Clients one phase may run; each holds a socket (or a pending request) open. */
export const concurrencyMax = 4096;
/** A phase may last at most this long; the whole run should stay within minutes. */
export const secondsMax = 600;

export const benchUsage = `pnpm bench [options]

  (default)        3 lockstep nodes as processes on loopback, FileStorage with fsync,
                   driven over HTTP at 1, 16, 128 and 256 concurrent clients
  --vs etcd        also a 3-member etcd cluster (etcd on PATH), the same load through its
                   v3 JSON gateway, alternating the two systems per concurrency level
  --in-process     3 ConsensusNodes in one process: memory storage, zero-latency network
                   (default clients 1, 64, 256, 1024)
  --profile        CPU profiles: of the leader process (cluster) or of each measured phase
                   (in-process), written under the results directory, top functions printed
  --seconds N      measured seconds per phase (default 10)
  --warmup N       warm-up seconds before each phase (default 2)
  --clients LIST   comma-separated concurrencies (e.g. 1,16,128,256)
  --out DIR        results directory (default bench-results)
  --chart PATH     SVG chart (default docs/benchmarks-chart.svg; "none" for none)
  --data-dir DIR   parent of the clusters' data directories (default: under apps/bench/node_modules/.cache)
  --keep-data      keep the data directories and server logs after the run
`;

/** Parses the command line; every refusal names the option and what it expects. */
export function parseBenchArgs(argv: readonly string[]): { ok: true; args: BenchArgs } | { ok: false; reason: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.filter((argument) => argument !== "--"),
      options: {
        vs: { type: "string" },
        "in-process": { type: "boolean", default: false },
        profile: { type: "boolean", default: false },
        seconds: { type: "string", default: "10" },
        warmup: { type: "string", default: "2" },
        clients: { type: "string" },
        out: { type: "string", default: "bench-results" },
        chart: { type: "string", default: "docs/benchmarks-chart.svg" },
        "data-dir": { type: "string" },
        "keep-data": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  const values = parsed.values;
  if (values.vs !== undefined && values.vs !== "etcd") return { ok: false, reason: `--vs: only "etcd" is supported, got "${values.vs}"` };
  const inProcess = values["in-process"];
  if (inProcess && values.vs !== undefined) return { ok: false, reason: "--vs etcd compares real clusters; it cannot be combined with --in-process" };
  const seconds = Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > secondsMax) return { ok: false, reason: `--seconds: expected a number in (0, ${secondsMax}], got "${values.seconds}"` };
  const warmupSeconds = Number(values.warmup);
  if (!Number.isFinite(warmupSeconds) || warmupSeconds < 0 || warmupSeconds > secondsMax) return { ok: false, reason: `--warmup: expected a number in [0, ${secondsMax}], got "${values.warmup}"` };
  const concurrencies = values.clients === undefined ? (inProcess ? defaultInProcessConcurrencies : defaultClusterConcurrencies) : parseConcurrencies(values.clients);
  if (concurrencies === null) return { ok: false, reason: `--clients: expected comma-separated integers in [1, ${concurrencyMax}], got "${values.clients}"` };
  return {
    ok: true,
    args: {
      mode: inProcess ? "in-process" : "cluster",
      vsEtcd: values.vs === "etcd",
      seconds,
      warmupSeconds,
      concurrencies,
      profile: values.profile,
      outDirectory: values.out,
      chartPath: values.chart === "none" ? null : values.chart,
      dataDirectory: values["data-dir"] ?? null,
      keepData: values["keep-data"],
      help: values.help,
    },
  };
}

function parseConcurrencies(text: string): number[] | null {
  const values = text.split(",").map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isInteger(value) || value < 1 || value > concurrencyMax)) return null;
  return values;
}
