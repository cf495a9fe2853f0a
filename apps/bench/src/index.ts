// The bench is a program (`pnpm bench`); these are its reusable parts, exported for tests and
// for anyone who wants to drive another system with the same load generator.
export { parseBenchArgs, benchUsage, type BenchArgs } from "./bench-args.js";
export { runPhase, type LoadClient, type OperationOutcome, type PhaseOptions, type PhaseProgress, type PhaseResult } from "./load-generator.js";
export { LatencySamples, percentile, type LatencySummary } from "./latency-samples.js";
export { HttpJsonClient, type HttpJsonResult, type JsonPoster } from "./http-json-client.js";
export { RpcJsonClient } from "./rpc-json-client.js";
export { LockstepLoadClient, lifecycleNext } from "./lockstep-load-client.js";
export { EtcdLoadClient } from "./etcd-load-client.js";
export { startLockstepCluster, type RunningCluster, type LockstepClusterOptions } from "./lockstep-cluster.js";
export { startEtcdCluster, findEtcd, type RunningEtcdCluster } from "./etcd-cluster.js";
export { runClusterBench, type ClusterRun, type ClusterBenchOptions, type ClusterBenchOutcome } from "./cluster-bench.js";
export { runInProcessBench, type InProcessRun, type InProcessBenchOptions } from "./in-process-bench.js";
export { startInProcessCluster, InProcessLoadClient, type InProcessCluster } from "./in-process-cluster.js";
export { DirectNetwork } from "./direct-network.js";
export { compare, clusterGoals, inProcessGoal, type Comparison, type GoalCheck } from "./comparison.js";
export { summarizeCpuProfile, type HotFunction } from "./cpu-profile-summary.js";
export { renderChart, type ChartPanel, type ChartSeries } from "./svg-chart.js";
export { processCpuMs, parseProcStatCpuMs } from "./process-cpu.js";
