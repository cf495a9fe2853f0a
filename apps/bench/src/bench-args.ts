import { parseArgs } from "node:util";

export interface BenchArgs {
  mode: "cluster" | "in-process" | "scaling" | "platform" | "timeline";
  vsEtcd: boolean;
  seconds: number;
  warmupSeconds: number;
  /**
   * The cluster bench (default mode, --vs etcd): seconds of load each system serves at the first level before anything is
   * measured, so that a fresh Node.js process is measured with its hot code compiled, as a
   * long-running node is (etcd gets the same).
   */
  settleSeconds: number;
  /** The cluster bench: how many times each level's rows are measured (alternating order); a row is the median round. */
  rounds: number;
  concurrencies: number[];
  profile: boolean;
  /** Where results (JSON, markdown, profiles) go, relative to the repository root unless absolute. */
  outDirectory: string;
  /** Where the SVG chart goes (cluster mode), or null for none. */
  chartPath: string | null;
  /** Parent of the clusters' data directories; default under the repository (the same disk as the code). */
  dataDirectory: string | null;
  keepData: boolean;
  /** `--scaling`: cluster sizes and key counts of the sweeps. */
  nodeCounts: number[];
  keyCounts: number[];
  help: boolean;
}

export const defaultClusterConcurrencies = [1, 16, 128, 256];
export const defaultInProcessConcurrencies = [1, 64, 256, 1024];
export const defaultScalingConcurrencies = [1, 4, 16, 64, 256, 1024];
export const defaultPlatformConcurrencies = [128];
export const defaultScalingNodeCounts = [3, 5, 7];
export const defaultScalingKeyCounts = [1_000, 10_000, 100_000, 1_000_000];
/** Cluster sizes `--nodes` accepts. */
export const nodeCountMax = 9;
/** Keys `--keys` may fill the store with. */
export const keyCountMax = 10_000_000;
/** Clients one phase may run; each holds a socket (or a pending request) open. */
export const concurrencyMax = 4096;
/** A phase may last at most this long; the whole run should stay within minutes. */
export const secondsMax = 600;
/** `--rounds` at most: each round re-measures every system at every level. */
export const roundsMax = 20;
/** `--settle` by default: a fresh node's 1-client figures settle after about 5 s of load on this machine (docs/benchmarks.md). */
export const defaultSettleSeconds = 10;

export const benchUsage = `pnpm bench [options]

  (default)        3 lockstep nodes as processes on loopback, FileStorage with fsync,
                   driven over HTTP at 1, 16, 128 and 256 concurrent clients
  --vs etcd        also a 3-member etcd cluster (etcd on PATH), the same load through its
                   v3 JSON gateway, alternating the two systems per concurrency level
  --in-process     3 ConsensusNodes in one process: memory storage, zero-latency network
                   (default clients 1, 64, 256, 1024)
  --scaling        cost as the work grows: writes/s and p99 against clients (default 1 to 1024,
                   3 nodes), against cluster size (--nodes, default 3,5,7) and against keys in
                   the store (--keys, default 1e3,1e4,1e5,1e6; with RSS and snapshot time), at
                   128 clients; SVG charts docs/benchmarks-{clients,nodes,keys}.svg
  --platform       what this machine charges for the steps of a commit, without lockstep: a
                   loopback TCP round trip between two processes, an fdatasync of a small append,
                   and bare Node HTTP against HTTPS at --clients keep-alive clients (default 128)
  --timeline       one commit hop by hop: 1 client on /v1/rpc against 3 nodes whose every
                   process records its socket writes and reads, log writes and fdatasyncs; the
                   median time of each step from the request (the hooks slow each step a little)
  --nodes LIST     cluster sizes of the --scaling sweep
  --keys LIST      key counts of the --scaling sweep
  --profile        CPU profiles: of the leader process (cluster) or of each measured phase
                   (in-process), written under the results directory, top functions printed
  --seconds N      measured seconds per phase (default 10)
  --warmup N       warm-up seconds before each phase (default 2)
  --settle N       cluster bench: seconds of load each system serves at the first level before
                   its first measured phase, so a fresh Node.js process is measured with its
                   hot code compiled (default ${defaultSettleSeconds}; 0: measure it cold)
  --rounds N       cluster bench: measure every level N times, alternating the systems' order;
                   each row is the round with the median writes/s (default 1)
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
        scaling: { type: "boolean", default: false },
        platform: { type: "boolean", default: false },
        timeline: { type: "boolean", default: false },
        nodes: { type: "string" },
        keys: { type: "string" },
        profile: { type: "boolean", default: false },
        seconds: { type: "string", default: "10" },
        warmup: { type: "string", default: "2" },
        settle: { type: "string", default: String(defaultSettleSeconds) },
        rounds: { type: "string", default: "1" },
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
  const scaling = values.scaling;
  if (scaling && (inProcess || values.vs !== undefined)) return { ok: false, reason: "--scaling runs lockstep clusters alone; it cannot be combined with --in-process or --vs" };
  const platform = values.platform;
  if (platform && (inProcess || scaling || values.vs !== undefined)) return { ok: false, reason: "--platform measures the machine alone; it cannot be combined with --in-process, --scaling or --vs" };
  if (platform && values.clients !== undefined && values.clients.includes(",")) return { ok: false, reason: "--platform takes one --clients value (the keep-alive clients of its HTTP phases)" };
  const timeline = values.timeline;
  if (timeline && (inProcess || scaling || platform || values.vs !== undefined)) return { ok: false, reason: "--timeline runs one lockstep cluster alone; it cannot be combined with --in-process, --scaling, --platform or --vs" };
  if (timeline && values.clients !== undefined) return { ok: false, reason: "--timeline runs one client (a request's steps are told apart only when one is in flight)" };
  if (!scaling && (values.nodes !== undefined || values.keys !== undefined)) return { ok: false, reason: "--nodes and --keys belong to --scaling" };
  const nodeCounts = values.nodes === undefined ? defaultScalingNodeCounts : parseIntegers(values.nodes, 1, nodeCountMax);
  if (nodeCounts === null) return { ok: false, reason: `--nodes: expected comma-separated integers in [1, ${nodeCountMax}], got "${values.nodes}"` };
  const keyCounts = values.keys === undefined ? defaultScalingKeyCounts : parseIntegers(values.keys, 1, keyCountMax);
  if (keyCounts === null) return { ok: false, reason: `--keys: expected comma-separated integers in [1, ${keyCountMax}], got "${values.keys}"` };
  const seconds = Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > secondsMax) return { ok: false, reason: `--seconds: expected a number in (0, ${secondsMax}], got "${values.seconds}"` };
  const warmupSeconds = Number(values.warmup);
  if (!Number.isFinite(warmupSeconds) || warmupSeconds < 0 || warmupSeconds > secondsMax) return { ok: false, reason: `--warmup: expected a number in [0, ${secondsMax}], got "${values.warmup}"` };
  const settleSeconds = Number(values.settle);
  if (!Number.isFinite(settleSeconds) || settleSeconds < 0 || settleSeconds > secondsMax) return { ok: false, reason: `--settle: expected a number in [0, ${secondsMax}], got "${values.settle}"` };
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > roundsMax) return { ok: false, reason: `--rounds: expected an integer in [1, ${roundsMax}], got "${values.rounds}"` };
  if ((inProcess || scaling || platform || timeline) && rounds !== 1) return { ok: false, reason: "--rounds belongs to the cluster bench (the default mode and --vs etcd)" };
  const defaultConcurrencies = timeline ? [1] : inProcess ? defaultInProcessConcurrencies : scaling ? defaultScalingConcurrencies : platform ? defaultPlatformConcurrencies : defaultClusterConcurrencies;
  const concurrencies = values.clients === undefined ? defaultConcurrencies : parseIntegers(values.clients, 1, concurrencyMax);
  if (concurrencies === null) return { ok: false, reason: `--clients: expected comma-separated integers in [1, ${concurrencyMax}], got "${values.clients}"` };
  return {
    ok: true,
    args: {
      mode: inProcess ? "in-process" : scaling ? "scaling" : platform ? "platform" : timeline ? "timeline" : "cluster",
      vsEtcd: values.vs === "etcd",
      seconds,
      warmupSeconds,
      settleSeconds,
      rounds,
      concurrencies,
      profile: values.profile,
      outDirectory: values.out,
      chartPath: values.chart === "none" ? null : values.chart,
      dataDirectory: values["data-dir"] ?? null,
      keepData: values["keep-data"],
      nodeCounts,
      keyCounts,
      help: values.help,
    },
  };
}

function parseIntegers(text: string, min: number, max: number): number[] | null {
  const values = text.split(",").map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isInteger(value) || value < min || value > max)) return null;
  return values;
}
