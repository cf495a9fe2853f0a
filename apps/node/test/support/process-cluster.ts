import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ensureLocalCertificates } from "../../src/certs/local-certificates.js";
import { freePorts } from "../../src/cluster/free-ports.js";

/** The built `lockstep` command; test/global-setup.ts builds it before any test file runs. */
export const cliPath = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

/** Log lines kept per node, printed when a test wants to explain a failure. */
const logLinesKeptMax = 200;
const host = "127.0.0.1";

/** Fast timing for tests that are not about the default timing: elections in about 200 ms. */
export const fastTiming = { tickMs: 20, electionTimeoutTicks: 10, heartbeatTicks: 1 } as const;

export interface TestNode {
  readonly id: string;
  readonly clientUrl: string;
  readonly peerPort: number;
  readonly clientPort: number;
  readonly configFile: string;
  readonly dataDirectory: string;
  process: ChildProcess | null;
  readonly log: string[];
}

export interface ProcessClusterOptions {
  /** Default 3. */
  nodeCount?: number;
  /** Default "test". */
  cluster?: string;
  /** Options for every node's config file (timing, log level, ...). */
  config?: Record<string, unknown>;
  /** Options for one node's config file only, by node id (e.g. its certsDirectory). */
  nodeConfig?: Record<string, Record<string, unknown>>;
  /** Extra fields of a member's entry in every node's members list, by member id. */
  memberFields?: Record<string, Record<string, unknown>>;
  /** Environment variables a node starts with, besides the test's own (which lose their LOCKSTEP_* names). */
  environment?: (node: TestNode) => Record<string, string>;
  /** The client port's scheme; `https` makes every `clientUrl` https:// (the test configures the certificate). Default http. */
  clientScheme?: "http" | "https";
}

/**
 * N `lockstep start` processes on loopback, each with its own config file and data directory in
 * a fresh temporary folder, on ports the OS picked (bound to port 0, then released). Each node's
 * config is written when it starts, so a test can first point one node's view of a peer at a
 * proxy (`dialThrough`). Children are tracked by PID; `destroy` SIGKILLs every one still running.
 */
export class ProcessCluster {
  readonly nodes: TestNode[];
  readonly root: string;
  /** `dialAddresses.get(from)?.get(to)`: the address `from` dials to reach `to`, when not the real one. */
  private readonly dialAddresses = new Map<string, Map<string, string>>();
  private static readonly live = new Set<ChildProcess>();
  private readonly joiners = new Map<string, { urls: string[]; token: string }>();

  private constructor(private readonly options: Required<ProcessClusterOptions>, nodes: TestNode[], root: string) {
    this.nodes = nodes;
    this.root = root;
  }

  static async prepare(options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const resolved = { nodeCount: 3, cluster: "test", config: {}, nodeConfig: {}, memberFields: {}, environment: () => ({}), clientScheme: "http" as const, ...options };
    const root = mkdtempSync(join(tmpdir(), "lockstep-it-"));
    const ports = await freePorts(host, resolved.nodeCount * 2);
    // Every cluster gets its own CA under <root>/certs, and each node <root>/certs/<id>/ (a few ms).
    await ensureLocalCertificates({ directory: join(root, "certs"), nodeIds: Array.from({ length: resolved.nodeCount }, (_, index) => `n${index + 1}`), hosts: [host, "localhost"] });
    const nodes = Array.from({ length: resolved.nodeCount }, (_, index): TestNode => {
      const clientPort = ports[resolved.nodeCount + index]!;
      return {
        id: `n${index + 1}`,
        clientUrl: `${resolved.clientScheme}://${host}:${clientPort}`,
        peerPort: ports[index]!,
        clientPort,
        configFile: join(root, `n${index + 1}.json`),
        dataDirectory: join(root, `n${index + 1}`),
        process: null,
        log: [],
      };
    });
    return new ProcessCluster(resolved, nodes, root);
  }

  node(id: string): TestNode {
    const node = this.nodes.find((candidate) => candidate.id === id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  get clientUrls(): string[] {
    return this.nodes.map((node) => node.clientUrl);
  }

  /**
   * A new node that joins the running cluster (`--join` with `joinToken`) instead of founding it:
   * its config names no members, only its own addresses, and an empty certificates folder (the
   * cluster certifies its key). Its data directory may be wiped and it can join again.
   */
  async addJoiner(id: string, joining: { urls: readonly string[]; token: string }): Promise<TestNode> {
    const [peerPort, clientPort] = await freePorts(host, 2);
    const node: TestNode = {
      id,
      clientUrl: `http://${host}:${clientPort!}`,
      peerPort: peerPort!,
      clientPort: clientPort!,
      configFile: join(this.root, `${id}.json`),
      dataDirectory: join(this.root, id),
      process: null,
      log: [],
    };
    this.nodes.push(node);
    this.joiners.set(id, { urls: [...joining.urls], token: joining.token });
    return node;
  }

  /** A joiner's next start uses this token (a wiped node joins again with a new one). */
  setJoinToken(id: string, token: string): void {
    const joiner = this.joiners.get(id);
    if (joiner === undefined) throw new Error(`${id} is not a joiner`);
    joiner.token = token;
  }

  /** From now on (for configs written by later starts), `from` reaches `to` at `address` (a proxy). */
  dialThrough(from: string, to: string, address: string): void {
    const view = this.dialAddresses.get(from) ?? new Map<string, string>();
    view.set(to, address);
    this.dialAddresses.set(from, view);
  }

  startAll(): void {
    for (const node of this.nodes) this.start(node.id);
  }

  start(id: string): void {
    const node = this.node(id);
    if (node.process !== null) throw new Error(`${id} is already running`);
    this.writeConfig(node);
    // The node must not inherit this shell's LOCKSTEP_* settings: its config file says it all.
    const environment = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("LOCKSTEP_"))), ...this.options.environment(node) };
    const child = spawn(process.execPath, [cliPath, "start", "--config", node.configFile], { stdio: ["ignore", "pipe", "pipe"], env: environment });
    node.process = child;
    ProcessCluster.live.add(child);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
        node.log.push(line);
        if (node.log.length > logLinesKeptMax) node.log.shift();
      });
    }
    child.once("exit", (code, signal) => {
      ProcessCluster.live.delete(child);
      if (node.process === child) node.process = null;
      node.log.push(`[test] process exited: ${signal ?? `code ${code}`}`);
    });
  }

  /** Sends `signal` to the node's PID; resolves once the process has exited. */
  async kill(id: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.node(id).process;
    if (child === null || child.pid === undefined) return;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    process.kill(child.pid, signal);
    await exited;
  }

  /** SIGKILLs every node still running and removes the temporary folder. Safe to call twice. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.kill(node.id, "SIGKILL")));
    rmSync(this.root, { recursive: true, force: true });
  }

  /** Where node `id`'s CA bundle, certificate and key are (`ca.crt`, `node.crt`, `node.key`). */
  certsDirectory(id: string): string {
    return join(this.root, "certs", id);
  }

  /** The cluster CA's certificate and key files, to issue more certificates in a test. */
  get caFiles(): { certFile: string; keyFile: string } {
    return { certFile: join(this.root, "certs", "ca.crt"), keyFile: join(this.root, "certs", "ca.key") };
  }

  /** The last log lines of every node, for a failure message. */
  logTail(linesPerNodeMax = 30): string {
    return this.nodes.map((node) => `--- ${node.id}\n${node.log.slice(-linesPerNodeMax).join("\n")}`).join("\n");
  }

  private writeConfig(node: TestNode): void {
    const joiner = this.joiners.get(node.id);
    if (joiner !== undefined) {
      const config = {
        nodeId: node.id,
        cluster: this.options.cluster,
        peerListenAddress: `${host}:${node.peerPort}`,
        clientListenAddress: `${host}:${node.clientPort}`,
        dataDirectory: node.dataDirectory,
        certsDirectory: this.certsDirectory(node.id),
        join: joiner.urls.join(","),
        joinToken: joiner.token,
        logLevel: "warn",
        ...this.options.config,
        ...this.options.nodeConfig[node.id],
      };
      writeFileSync(node.configFile, `${JSON.stringify(config, null, 2)}\n`);
      return;
    }
    const view = this.dialAddresses.get(node.id);
    const members = this.nodes.map((member) => ({
      id: member.id,
      peerAddress: view?.get(member.id) ?? `${host}:${member.peerPort}`,
      clientUrl: member.clientUrl,
      ...this.options.memberFields[member.id],
    }));
    const config = {
      nodeId: node.id,
      cluster: this.options.cluster,
      members,
      peerListenAddress: `${host}:${node.peerPort}`,
      dataDirectory: node.dataDirectory,
      certsDirectory: this.certsDirectory(node.id),
      // The founders certify the keys of nodes that join with a token.
      joinCaKeyFile: this.caFiles.keyFile,
      logLevel: "warn",
      ...this.options.config,
      ...this.options.nodeConfig[node.id],
    };
    writeFileSync(node.configFile, `${JSON.stringify(config, null, 2)}\n`);
  }

  /** A last resort if a test file dies before its afterAll: no node outlives the test worker. */
  static {
    process.once("exit", () => {
      for (const child of ProcessCluster.live) {
        try {
          if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
        } catch {
          // Already gone: nothing to stop.
        }
      }
    });
  }
}
