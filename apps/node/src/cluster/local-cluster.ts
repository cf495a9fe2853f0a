import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ensureLocalCertificates } from "../certs/local-certificates.js";
import { findFreePortBlock } from "./free-ports.js";

export interface LocalClusterOptions {
  /** Config files (`node-N.json`) and data directories (`node-N/`) go here. */
  dataRoot: string;
  nodeCount: number;
  host: string;
  peerPortBase: number;
  clientPortBase: number;
  cluster: string;
  /** Extra options for every node's config file (e.g. `{ logLevel: "warn" }`). */
  extraConfig?: Record<string, unknown>;
  /** Every line a node writes, stdout and stderr alike. */
  onLine: (nodeId: string, nodeIndex: number, line: string) => void;
  /** A node process ended (by itself or killed). */
  onExit?: (nodeId: string, code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface LocalNode {
  id: string;
  index: number;
  clientUrl: string;
  peerAddress: string;
  configFile: string;
  dataDirectory: string;
  process: ChildProcess | null;
}

/** The built `lockstep` entry point next to this file (dist/cli.js). */
const cliPath = fileURLToPath(new URL("../cli.js", import.meta.url));
const stopWaitMs = 10_000;

/**
 * A cluster of `lockstep start` child processes on loopback: it writes each node's config,
 * starts, kills and restarts nodes, and stops them all. Used by `pnpm start` and `pnpm demo`.
 */
export class LocalCluster {
  readonly nodes: LocalNode[];

  private constructor(private readonly options: LocalClusterOptions, nodes: LocalNode[]) {
    this.nodes = nodes;
  }

  /** Picks free ports, makes the certificates if missing and writes the config files; starts nothing yet. */
  static async prepare(options: LocalClusterOptions): Promise<LocalCluster> {
    const ports = await findFreePortBlock(options.host, options.peerPortBase, options.clientPortBase, options.nodeCount);
    if (ports === null) throw new Error(`no free block of ports near ${options.peerPortBase} and ${options.clientPortBase} on ${options.host}`);
    mkdirSync(options.dataRoot, { recursive: true });
    const nodes: LocalNode[] = ports.peerPorts.map((peerPort, index) => ({
      id: `n${index + 1}`,
      index,
      clientUrl: `http://${options.host}:${ports.clientPorts[index]!}`,
      peerAddress: `${options.host}:${peerPort}`,
      configFile: join(options.dataRoot, `node-${index + 1}.json`),
      dataDirectory: join(options.dataRoot, `node-${index + 1}`),
      process: null,
    }));
    const members = nodes.map((node) => ({ id: node.id, peerAddress: node.peerAddress, clientUrl: node.clientUrl }));
    // Peer traffic is mutual TLS: a CA and one certificate per node, made on first run and kept.
    const certificates = await ensureLocalCertificates({ directory: join(options.dataRoot, "certs"), nodeIds: nodes.map((node) => node.id), hosts: [options.host, "localhost"] });
    for (const node of nodes) {
      const config = {
        nodeId: node.id,
        cluster: options.cluster,
        members,
        dataDirectory: `node-${node.index + 1}`,
        certsDirectory: relative(options.dataRoot, dirname(certificates.nodes[node.id]!.certFile)),
        ...options.extraConfig,
      };
      writeFileSync(node.configFile, `${JSON.stringify(config, null, 2)}\n`);
    }
    return new LocalCluster(options, nodes);
  }

  node(id: string): LocalNode {
    const node = this.nodes.find((candidate) => candidate.id === id);
    if (node === undefined) throw new Error(`no node ${id} in this cluster`);
    return node;
  }

  startAll(): void {
    for (const node of this.nodes) this.start(node.id);
  }

  start(id: string): void {
    const node = this.node(id);
    if (node.process !== null) return;
    // The nodes must not inherit this shell's LOCKSTEP_* settings: their config file says it all.
    const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("LOCKSTEP_")));
    const child = spawn(process.execPath, [cliPath, "start", "--config", node.configFile], { stdio: ["ignore", "pipe", "pipe"], env: environment });
    node.process = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => this.options.onLine(node.id, node.index, line));
    }
    child.once("exit", (code, signal) => {
      if (node.process === child) node.process = null;
      this.options.onExit?.(node.id, code, signal);
    });
  }

  /** Sends `signal`; resolves once the process has exited. */
  async kill(id: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.node(id).process;
    if (child === null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** SIGTERM to every node, then SIGKILL to any still running after 10 s. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        const child = node.process;
        if (child === null) return;
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), stopWaitMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
