/**
 * `pnpm bench --platform`: what this machine charges for the steps every commit is made of,
 * measured without lockstep, so the cluster figures can be read against a floor. Three
 * figures: a loopback TCP round trip between two processes (the cost of one peer message each
 * way), an fdatasync of a small append (the cost of making an entry durable), and bare Node
 * HTTP/1.1 against HTTPS at many keep-alive clients with the bench's own load client (what TLS
 * costs a trivial handler, with no consensus behind it).
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { ensureLocalCertificates } from "node";
import { HttpJsonClient } from "./http-json-client.js";
import { LatencySamples, type LatencySummary } from "./latency-samples.js";
import { processCpuMs } from "./process-cpu.js";
import type { ProgressLine } from "./progress-line.js";

export interface PlatformOptions {
  /** Where the fdatasync file and the certificates go: the clusters' data disk. */
  workDirectory: string;
  seconds: number;
  warmupSeconds: number;
  /** Keep-alive clients of the HTTP and HTTPS phases. */
  httpClients: number;
  progress: ProgressLine;
}

export interface RoundTripFigures {
  rounds: number;
  latency: LatencySummary;
  /** CPU of the sending side (one write and one read per round trip), and of the echoing side. */
  senderCpuUsPerRound: number;
  echoCpuUsPerRound: number;
}

export interface FdatasyncFigures {
  appends: number;
  appendBytes: number;
  latency: LatencySummary;
  /** The same appends by three processes at once, each on its own file of the same disk (a 3-node cluster on one machine). */
  threeWriters: LatencySummary;
  /** fdatasyncs per second the disk completed with three writers, all of them together. */
  threeWritersSyncsPerSecond: number;
}

export interface HttpPhase {
  scheme: "http" | "https";
  round: number;
  requestsPerSecond: number;
  serverCpuPercent: number;
  generatorCpuPercent: number;
  failed: number;
}

export interface PlatformFigures {
  roundTrip: RoundTripFigures;
  fdatasync: FdatasyncFigures;
  http: HttpPhase[];
  /** Mean HTTPS requests/s over mean HTTP requests/s. */
  httpsOverHttp: number;
  /** Mean server CPU per request, HTTPS over HTTP: what TLS costs the server's side alone. */
  serverCpuHttpsOverHttp: number;
}

const roundTrips = 3_000;
const roundTripBytes = 200;
const fdatasyncAppends = 500;
const fdatasyncAppendBytes = 300;
/** A peer that has not reported its port in this long failed to start. */
const peerStartMs = 10_000;

export async function runPlatformBench(options: PlatformOptions): Promise<PlatformFigures> {
  const scratch = mkdtempSync(join(options.workDirectory, "platform-"));
  try {
    options.progress.done("platform: loopback TCP round trips between two processes");
    const roundTrip = await measureRoundTrips();
    options.progress.done("platform: fdatasync of small appends");
    const fdatasync = await measureFdatasync(scratch);
    const certificates = await ensureLocalCertificates({ directory: join(scratch, "certs"), nodeIds: ["platform"], hosts: ["127.0.0.1"] });
    const files = certificates.nodes.platform!;
    const http: HttpPhase[] = [];
    // Alternated, twice, so that a change in the machine's load falls on both schemes.
    for (const round of [1, 2]) {
      for (const scheme of ["http", "https"] as const) {
        options.progress.done(`platform: bare Node ${scheme}, ${options.httpClients} keep-alive clients, round ${round}`);
        http.push(await measureHttp(scheme, round, options, scheme === "https" ? { keyFile: files.keyFile, certFile: files.certFile, ca: readFileSync(certificates.caFile, "utf8") } : null));
      }
    }
    const mean = (scheme: "http" | "https", value: (phase: HttpPhase) => number): number => {
      const phases = http.filter((phase) => phase.scheme === scheme);
      return phases.reduce((sum, phase) => sum + value(phase), 0) / phases.length;
    };
    const rate = (phase: HttpPhase): number => phase.requestsPerSecond;
    const serverUs = (phase: HttpPhase): number => perRequestUs(phase, phase.serverCpuPercent);
    return { roundTrip, fdatasync, http, httpsOverHttp: mean("https", rate) / mean("http", rate), serverCpuHttpsOverHttp: mean("https", serverUs) / mean("http", serverUs) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface Peer {
  child: ChildProcess;
  port: number;
}

async function startPeer(args: string[]): Promise<Peer> {
  const child = fork(new URL("./platform-peer.js", import.meta.url), args, { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`platform peer ${args[0]} reported no port within ${peerStartMs} ms`)), peerStartMs);
    child.once("message", (message) => {
      clearTimeout(timer);
      if (typeof message === "number") resolve(message);
      else reject(new Error(`platform peer ${args[0]}: unexpected message ${JSON.stringify(message)}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`platform peer ${args[0]} exited with ${code}`));
    });
  });
  return { child, port };
}

function stopPeer(peer: Peer): Promise<void> {
  if (peer.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    peer.child.once("exit", () => resolve());
    peer.child.kill("SIGTERM");
  });
}

function cpuUsOf(pid: number | undefined): number {
  const times = pid === undefined ? null : processCpuMs(pid);
  return times === null ? Number.NaN : (times.userMs + times.systemMs) * 1000;
}

function ownCpuUs(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

async function measureRoundTrips(): Promise<RoundTripFigures> {
  const peer = await startPeer(["tcp-echo"]);
  const socket: Socket = connect(peer.port, "127.0.0.1");
  try {
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const message = Buffer.alloc(roundTripBytes, 0x61);
    const roundTrip = async (): Promise<number> => {
      const started = performance.now();
      let received = 0;
      await new Promise<void>((resolve) => {
        const onData = (data: Buffer): void => {
          received += data.byteLength;
          if (received < roundTripBytes) return;
          socket.off("data", onData);
          resolve();
        };
        socket.on("data", onData);
        socket.write(message);
      });
      return (performance.now() - started) * 1000;
    };
    for (let warm = 0; warm < 200; warm++) await roundTrip();
    const samples = new LatencySamples();
    const senderBefore = ownCpuUs();
    const echoBefore = cpuUsOf(peer.child.pid);
    for (let round = 0; round < roundTrips; round++) samples.record(await roundTrip());
    return {
      rounds: roundTrips,
      latency: samples.summary(),
      senderCpuUsPerRound: (ownCpuUs() - senderBefore) / roundTrips,
      echoCpuUsPerRound: (cpuUsOf(peer.child.pid) - echoBefore) / roundTrips,
    };
  } finally {
    socket.destroy();
    await stopPeer(peer);
  }
}

/**
 * Appends and fdatasyncs the way the write-ahead log does (one positioned write, then one
 * datasync), in writer processes (`platform-peer.ts`): one alone, then three at once.
 */
async function measureFdatasync(directory: string): Promise<FdatasyncFigures> {
  const alone = await syncWriters(directory, "alone", 1);
  const three = await syncWriters(directory, "three", 3);
  return { appends: fdatasyncAppends, appendBytes: fdatasyncAppendBytes, latency: alone.latency, threeWriters: three.latency, threeWritersSyncsPerSecond: three.syncsPerSecond };
}

/** `count` writer processes started together, each on its own file: every latency, and the fdatasyncs per second of all of them. */
async function syncWriters(directory: string, name: string, count: number): Promise<{ latency: LatencySummary; syncsPerSecond: number }> {
  const writers = await Promise.all(Array.from({ length: count }, (_, index) => startSyncWriter(join(directory, `${name}-${index}.log`))));
  const startedMs = performance.now();
  for (const writer of writers) writer.child.send("go");
  const latencies = await Promise.all(writers.map((writer) => writer.done));
  const elapsedMs = performance.now() - startedMs;
  const samples = new LatencySamples();
  for (const writerLatencies of latencies) for (const latencyUs of writerLatencies) samples.record(latencyUs);
  return { latency: samples.summary(), syncsPerSecond: (samples.count / elapsedMs) * 1000 };
}

async function startSyncWriter(path: string): Promise<{ child: ChildProcess; done: Promise<number[]> }> {
  const child = fork(new URL("./platform-peer.js", import.meta.url), ["fdatasync", path, String(fdatasyncAppends), String(fdatasyncAppendBytes)], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fdatasync writer reported nothing within ${peerStartMs} ms`)), peerStartMs);
    child.once("message", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const done = new Promise<number[]>((resolve, reject) => {
    child.once("message", (message) => (Array.isArray(message) ? resolve(message.filter((value): value is number => typeof value === "number")) : reject(new Error("fdatasync writer: unexpected message"))));
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`fdatasync writer exited with ${code}`))));
  });
  return { child, done };
}

async function measureHttp(scheme: "http" | "https", round: number, options: PlatformOptions, tls: { keyFile: string; certFile: string; ca: string } | null): Promise<HttpPhase> {
  const peer = await startPeer(tls === null ? ["http"] : ["https", tls.keyFile, tls.certFile]);
  const client = new HttpJsonClient(new URL(`${scheme}://127.0.0.1:${peer.port}`), options.httpClients, tls === null ? {} : { ca: tls.ca, token: "platform.bench-token" });
  try {
    const payload = { to: "Running", requestId: "0123456789abcdef0123456789abcdef:1", expect: "Init" };
    let measuring = false;
    let stop = false;
    let completed = 0;
    let failed = 0;
    const loop = async (): Promise<void> => {
      while (!stop) {
        const result = await client.post("/v1/machines/platform/transition", payload);
        if (!measuring) continue;
        if (result.ok && result.status === 200) completed += 1;
        else failed += 1;
      }
    };
    const loops = Array.from({ length: options.httpClients }, loop);
    await new Promise((resolve) => setTimeout(resolve, options.warmupSeconds * 1000));
    measuring = true;
    const started = performance.now();
    const serverBefore = cpuUsOf(peer.child.pid);
    const generatorBefore = ownCpuUs();
    await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
    const elapsedUs = (performance.now() - started) * 1000;
    const served = completed;
    const serverCpuUs = cpuUsOf(peer.child.pid) - serverBefore;
    const generatorCpuUs = ownCpuUs() - generatorBefore;
    stop = true;
    await Promise.all(loops);
    return { scheme, round, requestsPerSecond: (served / elapsedUs) * 1e6, serverCpuPercent: (serverCpuUs / elapsedUs) * 100, generatorCpuPercent: (generatorCpuUs / elapsedUs) * 100, failed };
  } finally {
    client.close();
    await stopPeer(peer);
  }
}

/** CPU microseconds per request of a phase, from a CPU share in percent of one core. */
function perRequestUs(phase: HttpPhase, cpuPercent: number): number {
  return phase.requestsPerSecond > 0 ? (cpuPercent / 100 / phase.requestsPerSecond) * 1e6 : Number.NaN;
}

/** The figures as markdown: one table per measurement, and the HTTPS ratio the cluster rows compare with. */
export function platformMarkdown(figures: PlatformFigures, clients: number): string {
  const ms = (us: number): string => (us / 1000).toFixed(3);
  const { roundTrip, fdatasync } = figures;
  const lines = [
    "| step | count | p50 ms | p90 ms | p99 ms | CPU µs per step |",
    "|---|---:|---:|---:|---:|---|",
    `| loopback TCP round trip between two processes, ${roundTripBytes} bytes | ${roundTrip.rounds} | ${ms(roundTrip.latency.p50Us)} | ${ms(roundTrip.latency.p90Us)} | ${ms(roundTrip.latency.p99Us)} | sender ${roundTrip.senderCpuUsPerRound.toFixed(0)}, echo ${roundTrip.echoCpuUsPerRound.toFixed(0)} |`,
    `| positioned write of ${fdatasync.appendBytes} bytes + fdatasync | ${fdatasync.appends} | ${ms(fdatasync.latency.p50Us)} | ${ms(fdatasync.latency.p90Us)} | ${ms(fdatasync.latency.p99Us)} | |`,
    `| the same, three processes at once on one disk (${Math.round(fdatasync.threeWritersSyncsPerSecond).toLocaleString("en-US")} fdatasyncs/s in all) | ${fdatasync.threeWriters.count} | ${ms(fdatasync.threeWriters.p50Us)} | ${ms(fdatasync.threeWriters.p90Us)} | ${ms(fdatasync.threeWriters.p99Us)} | |`,
    "",
    `Bare Node HTTP/1.1 and HTTPS (TLS 1.3), ${clients} keep-alive clients of the bench's own load client, a server that answers each JSON POST with a small JSON body (no consensus):`,
    "",
    "| scheme | round | requests/s | server CPU % | server CPU µs/request | load gen CPU % | load gen CPU µs/request | failed |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...figures.http.map(
      (phase) =>
        `| ${phase.scheme} | ${phase.round} | ${Math.round(phase.requestsPerSecond).toLocaleString("en-US")} | ${phase.serverCpuPercent.toFixed(0)} | ${perRequestUs(phase, phase.serverCpuPercent).toFixed(1)} | ${phase.generatorCpuPercent.toFixed(0)} | ${perRequestUs(phase, phase.generatorCpuPercent).toFixed(1)} | ${phase.failed} |`,
    ),
    "",
    `- bare Node HTTPS ÷ HTTP requests/s: ${figures.httpsOverHttp.toFixed(2)}x (a load generator at 100 % of a core is the limit, not the server)`,
    `- bare Node server CPU per request, HTTPS ÷ HTTP: ${figures.serverCpuHttpsOverHttp.toFixed(2)}x`,
  ];
  return `${lines.join("\n")}\n`;
}
