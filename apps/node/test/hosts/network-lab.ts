import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";

/**
 * A small network of "hosts" on one machine: Linux network namespaces on a bridge, built with
 * Debian's iproute2, filtered with nftables, shaped with `tc tbf`, named by a dnsmasq running in
 * its own namespace. Everything it makes carries the prefix `lsh-` (namespaces, links, the
 * /etc/netns resolver files), uses 10.213.0.0/16 only inside those namespaces, and is removed by
 * `destroy()` and by `removeLeftovers()` (for what a killed earlier run left behind).
 *
 * The root namespace gets no address and no link: the bridge lives in a namespace of its own
 * (`lsh-sw`), so the test's traffic cannot leave the namespaces it created.
 */
export const labPrefix = "lsh-";
const switchNamespace = `${labPrefix}sw`;
const bridge = `${labPrefix}br`;
export const dnsNamespace = `${labPrefix}dns`;
export const clientNamespace = `${labPrefix}cl`;
export const dnsAddress = "10.213.0.53";
const clientAddress = "10.213.0.100";
export const domain = "lockstep.test";
const commandTimeoutMs = 10_000;
const logLinesKeptMax = 200;

export interface LabHost {
  readonly index: number;
  readonly id: string;
  readonly namespace: string;
  /** The address its node advertises and that DNS gives for its name. */
  readonly address: string;
  /** A second address: what the delay relays dial, so their traffic is never redirected again. */
  readonly relayAddress: string;
  readonly name: string;
}

export function run(command: string, args: readonly string[], input?: string): string {
  return execFileSync(command, args, { encoding: "utf8", timeout: commandTimeoutMs, stdio: ["pipe", "pipe", "pipe"], ...(input === undefined ? {} : { input }) });
}

/** Runs a command inside a namespace. */
export function inNamespace(namespace: string, command: string, args: readonly string[], input?: string): string {
  return run("ip", ["netns", "exec", namespace, command, ...args], input);
}

export function requireTools(): void {
  const missing = [
    ["ip", "iproute2"],
    ["nft", "nftables"],
    ["tc", "iproute2"],
    ["dnsmasq", "dnsmasq-base"],
  ].filter(([tool]) => !["/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"].some((directory) => existsSync(directory + tool!)));
  if (missing.length > 0) throw new Error(`missing tools: ${missing.map(([tool, pkg]) => `${tool} (apt-get install ${pkg})`).join(", ")}; tooling/scripts/setup.sh installs them`);
  if (process.getuid?.() !== 0) throw new Error("pnpm test:hosts needs root: it creates network namespaces");
}

/** Removes every namespace, link and resolver file with the lab's prefix (a killed run's leftovers). */
export function removeLeftovers(): void {
  const namespaces = run("ip", ["netns", "list"])
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(labPrefix));
  // Deleting a namespace removes its links and nftables tables and ends nothing else; the
  // processes started in it are stopped by their owner (destroy) or died with the earlier run.
  for (const name of namespaces) run("ip", ["netns", "delete", name]);
  const links = run("ip", ["-o", "link", "show"])
    .split("\n")
    .map((line) => /^[0-9]+: ([^:@]+)/.exec(line)?.[1] ?? "")
    .filter((name) => name.startsWith(labPrefix));
  for (const name of links) run("ip", ["link", "delete", name]);
  if (existsSync("/etc/netns")) {
    for (const name of readdirSync("/etc/netns")) if (name.startsWith(labPrefix)) rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
  }
}

/** A child process in a namespace whose output is kept and read line by line. */
export interface LabProcess {
  readonly child: ChildProcess;
  readonly log: string[];
  /** Resolves with the first line `match` accepts. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** Calls `listener` with every line from now on. */
  onLine(listener: (line: string) => void): void;
}

export function spawnInNamespace(namespace: string, command: string, args: readonly string[]): LabProcess {
  // Nothing of this shell's LOCKSTEP_* settings leaks into a lab process: its arguments say it all.
  const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("LOCKSTEP_")));
  const child = spawn("ip", ["netns", "exec", namespace, command, ...args], { stdio: ["pipe", "pipe", "pipe"], env: environment });
  const log: string[] = [];
  const waiters = new Set<(line: string) => void>();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
      log.push(line);
      if (log.length > logLinesKeptMax) log.shift();
      for (const waiter of waiters) waiter(line);
    });
  }
  child.once("exit", (code, signal) => log.push(`[lab] exited: ${signal ?? `code ${code}`}`));
  return {
    child,
    log,
    onLine(listener) {
      waiters.add(listener);
    },
    waitForLine(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const found = log.find(match);
        if (found !== undefined) return resolve(found);
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching line within ${timeoutMs} ms; last lines:\n${log.slice(-20).join("\n")}`));
        }, timeoutMs);
        const waiter = (line: string): void => {
          if (!match(line)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(line);
        };
        waiters.add(waiter);
      });
    },
  };
}

/** Stops a lab process by its PID and waits for it to exit. */
export async function stopProcess(process: LabProcess | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  const child = process?.child;
  if (child === undefined || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  await exited;
}

export class NetworkLab {
  readonly hosts: LabHost[];
  private dns: LabProcess | undefined;

  private constructor(hostCount: number) {
    this.hosts = Array.from({ length: hostCount }, (_, offset) => {
      const index = offset + 1;
      return { index, id: `n${index}`, namespace: `${labPrefix}h${index}`, address: `10.213.0.${10 + index}`, relayAddress: `10.213.1.${10 + index}`, name: `n${index}.${domain}` };
    });
  }

  /** Builds the network: the switch, one namespace per host, the client's and the DNS server's. */
  static async create(hostCount: number): Promise<NetworkLab> {
    requireTools();
    removeLeftovers();
    const lab = new NetworkLab(hostCount);
    run("ip", ["netns", "add", switchNamespace]);
    inNamespace(switchNamespace, "ip", ["link", "add", bridge, "type", "bridge"]);
    inNamespace(switchNamespace, "ip", ["link", "set", bridge, "up"]);
    for (const host of lab.hosts) lab.attach(host.namespace, [`${host.address}/24`, `${host.relayAddress}/24`]);
    lab.attach(dnsNamespace, [`${dnsAddress}/24`]);
    lab.attach(clientNamespace, [`${clientAddress}/24`]);
    await lab.startDns();
    // `ip netns exec` bind-mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf: every
    // process started in a host's namespace asks the lab's DNS server, and only it.
    for (const namespace of [...lab.hosts.map((host) => host.namespace), clientNamespace]) {
      mkdirSync(`/etc/netns/${namespace}`, { recursive: true });
      writeFileSync(`/etc/netns/${namespace}/resolv.conf`, `nameserver ${dnsAddress}\noptions timeout:1 attempts:2\n`);
    }
    return lab;
  }

  /** A namespace with one veth whose other end is on the bridge; `eth0` inside. */
  private attach(namespace: string, addresses: readonly string[]): void {
    const outside = `${namespace}-p`;
    run("ip", ["netns", "add", namespace]);
    inNamespace(switchNamespace, "ip", ["link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", namespace]);
    inNamespace(switchNamespace, "ip", ["link", "set", outside, "master", bridge, "up"]);
    inNamespace(namespace, "ip", ["link", "set", "lo", "up"]);
    inNamespace(namespace, "ip", ["link", "set", "eth0", "up"]);
    for (const address of addresses) inNamespace(namespace, "ip", ["address", "add", address, "dev", "eth0"]);
  }

  /** dnsmasq with A records for each host and the SRV records of a Kubernetes headless service. */
  private async startDns(): Promise<void> {
    const records = this.hosts.flatMap((host) => [
      `--host-record=${host.name},${host.address}`,
      `--srv-host=_lockstep-client._tcp.${domain},${host.name},8401,0,10`,
      `--srv-host=_lockstep-peer._tcp.${domain},${host.name},7401,0,10`,
    ]);
    this.dns = spawnInNamespace(dnsNamespace, "dnsmasq", [
      "--keep-in-foreground",
      "--no-daemon",
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--no-poll",
      `--listen-address=${dnsAddress}`,
      "--bind-interfaces",
      "--pid-file=",
      "--user=root",
      "--log-facility=-",
      `--local=/${domain}/`,
      ...records,
    ]);
    await this.dns.waitForLine((line) => line.includes("started, version"), commandTimeoutMs);
  }

  /** Replaces the host's nftables filter with `rules` (nft syntax, one per line, in an input chain). */
  setInputRules(host: LabHost, rules: readonly string[]): void {
    const script = [
      "table inet lsh_filter",
      "delete table inet lsh_filter",
      "table inet lsh_filter {",
      "  chain input {",
      "    type filter hook input priority 0; policy accept;",
      ...rules.map((rule) => `    ${rule}`),
      "  }",
      "}",
      "",
    ].join("\n");
    inNamespace(host.namespace, "nft", ["-f", "-"], script);
  }

  /** Drops everything `host` receives from `from` (both of their addresses). */
  dropFrom(from: readonly LabHost[]): string[] {
    if (from.length === 0) return [];
    const addresses = from.flatMap((peer) => [peer.address, peer.relayAddress]).join(", ");
    return [`ip saddr { ${addresses} } counter drop`];
  }

  /** Drops N % of what the host receives from the other hosts, at random. */
  randomLoss(percent: number): string[] {
    return [`ip saddr 10.213.0.0/16 numgen random mod 100 < ${percent} counter drop`];
  }

  /** Redirects the host's own connections to each peer's peer port to a local relay port (nftables DNAT). */
  redirectPeersThroughRelay(host: LabHost, peerPort: number, relayPort: (peer: LabHost) => number): void {
    const rules = this.hosts
      .filter((peer) => peer !== host)
      .map((peer) => `    ip daddr ${peer.address} tcp dport ${peerPort} dnat to ${host.address}:${relayPort(peer)}`);
    const script = ["table ip lsh_nat {", "  chain output {", "    type nat hook output priority -100; policy accept;", ...rules, "  }", "}", ""].join("\n");
    inNamespace(host.namespace, "nft", ["-f", "-"], script);
  }

  /** A token bucket on the host's link: at most `rate` (tc syntax, e.g. "1mbit") leaves it. */
  limitBandwidth(host: LabHost, rate: string): void {
    inNamespace(host.namespace, "tc", ["qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", rate, "burst", "32kbit", "latency", "400ms"]);
  }

  removeBandwidthLimit(host: LabHost): void {
    inNamespace(host.namespace, "tc", ["qdisc", "del", "dev", "eth0", "root"]);
  }

  /** Packets the host's input rules have dropped so far (their counters). */
  droppedPackets(host: LabHost): number {
    const text = inNamespace(host.namespace, "nft", ["list", "table", "inet", "lsh_filter"]);
    return [...text.matchAll(/counter packets ([0-9]+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
  }

  /** `tc -s qdisc show` of the host's link. */
  qdisc(host: LabHost): string {
    return inNamespace(host.namespace, "tc", ["-s", "qdisc", "show", "dev", "eth0"]);
  }

  /** Stops the DNS server and removes every namespace (with its links, rules and qdiscs) and resolver file. */
  async destroy(): Promise<void> {
    await stopProcess(this.dns);
    removeLeftovers();
    const left = [...run("ip", ["netns", "list"]).split("\n"), ...run("ip", ["-o", "link", "show"]).split("\n")].filter((line) => line.includes(labPrefix));
    if (left.length > 0) throw new Error(`the lab could not remove: ${left.join("; ")}`);
  }

  dnsLog(): string {
    return this.dns?.log.join("\n") ?? "";
  }
}
