import type { NodeId } from "@lockstep/protocol";
import type { ConfigurationChange } from "../configuration.js";
import { Network, transition } from "../testing/network.js";
import type { Member } from "@lockstep/protocol";
import { renderMembers, renderMessage, renderReady, renderStatus } from "./render.js";

/** Bounds a `tick`, `tick-all` or `pass-time` step so that a typo cannot make a scenario run for minutes. */
export const stepTicksMax = 1000;
/** Bounds the messages an `elect` step delivers after each tick. */
export const electDeliveriesMax = 10_000;
/** Bounds the number of nodes a `cluster` step creates. */
export const clusterSizeMax = 9;

/** Core options a `cluster` step may set, with their kind (the rest keep their defaults). */
const settableOptions: Record<string, "boolean" | "number"> = {
  preVote: "boolean",
  checkQuorum: "boolean",
  autoPromote: "boolean",
  electionTimeoutTicks: "number",
  heartbeatTicks: "number",
  promoteStableTicks: "number",
  promoteLagEntriesMax: "number",
  entriesPerProposalMax: "number",
};

/** A step that cannot run as written (unknown command, bad argument): the scenario file is wrong. */
export class ScenarioStepError extends Error {
  override readonly name = "ScenarioStepError";
  readonly code = "scenario_step_invalid" as const;
}

/**
 * Runs the steps of a golden scenario against real RaftCore instances on the in-process test
 * network, and prints what each step produced: every Ready in the order the network processed it,
 * then the step's own answer (a proposal's index, a refusal's reason).
 */
export class ScenarioDriver {
  private network: Network | null = null;
  private output: string[] = [];
  private quiet = false;

  run(command: string): string[] {
    const words = command.split(/\s+/).filter((word) => word !== "");
    this.quiet = words.at(-1) === "quiet";
    if (this.quiet) words.pop();
    const [name, ...args] = words;
    this.output = [];
    this.dispatch(name ?? "", args);
    return this.output.length === 0 ? ["ok"] : this.output;
  }

  private dispatch(name: string, args: string[]): void {
    switch (name) {
      case "cluster":
        return this.cluster(args);
      case "campaign":
        return this.net().campaign(this.nodeArg(args, 0));
      case "elect":
        return this.elect(this.nodeArg(args, 0));
      case "tick":
        return this.repeat(args[1], () => this.net().tick(this.nodeArg(args, 0)));
      case "tick-all":
        return this.repeat(args[0], () => this.net().tickAll());
      case "pass-time":
        return this.repeat(args[0], () => this.net().passTime(1));
      case "deliver":
        return args[0] === undefined ? this.net().deliverAll() : this.net().deliver(this.count(args[0]));
      case "propose":
        return this.propose(args);
      case "change":
        return this.change(args);
      case "transfer":
        return this.transfer(args);
      case "isolate":
        return this.net().isolate(this.nodeArg(args, 0));
      case "cut":
        return this.net().cut(this.nodeArg(args, 0), this.nodeArg(args, 1));
      case "heal":
        return this.net().heal();
      case "drop":
        return this.drop();
      case "restart":
        return this.net().restart(this.nodeArg(args, 0));
      case "wipe":
        return this.net().wipe(this.nodeArg(args, 0));
      case "restart-after-loss":
        return this.net().restartAfterLoss(this.nodeArg(args, 0), this.index(args[1]));
      case "hold-entries":
        // Every Proposal with entries to ID is lost until `release` (heartbeats still reach it): a
        // repair held back, so that it lasts as long as the scenario needs.
        return this.net().holdEntriesTo(this.nodeArg(args, 0));
      case "release":
        this.net().filter = null;
        return;
      case "status":
        return this.status(args);
      default:
        throw new ScenarioStepError(`unknown step "${name}"`);
    }
  }

  private net(): Network {
    if (this.network === null) throw new ScenarioStepError("no cluster yet: the first step must be `cluster N`");
    return this.network;
  }

  private nodeArg(args: string[], position: number): NodeId {
    const id = args[position];
    if (id === undefined || !this.net().nodes.has(id)) throw new ScenarioStepError(`argument ${position + 1}: no node "${id ?? ""}"`);
    return id;
  }

  private count(text: string | undefined, fallback = 1): number {
    if (text === undefined) return fallback;
    const count = Number(text);
    if (!Number.isInteger(count) || count < 1 || count > stepTicksMax) throw new ScenarioStepError(`"${text}" is not a count in [1, ${stepTicksMax}]`);
    return count;
  }

  /** `restart-after-loss ID INDEX`: the log index its damaged disk still holds through. */
  private index(text: string | undefined): number {
    const index = Number(text);
    if (text === undefined || !Number.isInteger(index) || index < 0) throw new ScenarioStepError(`"${text ?? ""}" is not a log index`);
    return index;
  }

  private repeat(countText: string | undefined, once: () => void): void {
    const count = this.count(countText);
    for (let done = 0; done < count; done++) once();
  }

  /** `cluster N [seed=S] [option=value ...]`: a fresh network of N founders, first start settled. */
  private cluster(args: string[]): void {
    const size = Number(args[0]);
    if (!Number.isInteger(size) || size < 1 || size > clusterSizeMax) throw new ScenarioStepError(`cluster size "${args[0] ?? ""}" is not in [1, ${clusterSizeMax}]`);
    let seed = 1;
    const config: Record<string, boolean | number> = {};
    for (const option of args.slice(1)) {
      const [key = "", value = ""] = option.split("=");
      if (key === "seed") seed = Number(value);
      else if (settableOptions[key] === "boolean" && (value === "true" || value === "false")) config[key] = value === "true";
      else if (settableOptions[key] === "number" && Number.isInteger(Number(value))) config[key] = Number(value);
      else throw new ScenarioStepError(`cluster option "${option}" is not one of seed, ${Object.keys(settableOptions).join(", ")}`);
    }
    const network = new Network(size, { seed, config });
    network.onReady = (id, ready) => {
      if (!this.quiet) this.output.push(...renderReady(id, ready));
    };
    network.onLost = (envelope) => {
      if (!this.quiet) this.output.push(`lost ${renderMessage(envelope)}`);
    };
    this.network = network;
  }

  /**
   * `elect ID`: ticks only ID, delivering one message at a time, and stops the moment it leads:
   * its first Proposals (the no-op of its term) are still queued, for `drop` or `deliver`.
   */
  private elect(id: NodeId): void {
    const network = this.net();
    for (let ticks = 0; ticks < stepTicksMax; ticks++) {
      network.tick(id);
      for (let delivered = 0; delivered < electDeliveriesMax && network.pending().length > 0; delivered++) {
        if (network.node(id).summary().role === "leader") return;
        network.deliver(1);
      }
      if (network.node(id).summary().role === "leader") return;
    }
    throw new ScenarioStepError(`${id} did not become leader within ${stepTicksMax} ticks`);
  }

  /** `propose n1 a b`: one proposal of transitions of keys a and b. */
  private propose(args: string[]): void {
    const id = this.nodeArg(args, 0);
    const keys = args.slice(1);
    if (keys.length === 0) throw new ScenarioStepError("propose needs at least one key");
    const result = this.net().propose(id, keys.map((key) => transition(key)));
    this.output.push(`propose: ${renderResult(result)}`);
  }

  /** `change n1 add_learner n4` (n4 joins with an empty disk first), `change n1 promote n4`, `change n1 remove n3`. */
  private change(args: string[]): void {
    const id = this.nodeArg(args, 0);
    const [kind, target] = [args[1], args[2]];
    if (target === undefined) throw new ScenarioStepError("change needs a kind and a target: change n1 add_learner n4");
    let change: ConfigurationChange;
    if (kind === "add_learner") {
      if (!this.net().nodes.has(target)) this.net().join(target);
      change = { kind, member: { id: target, peerAddress: `${target}.peer:7000`, clientUrl: `http://${target}.client:8000` } };
    } else if (kind === "promote" || kind === "remove") {
      change = { kind, id: target };
    } else {
      throw new ScenarioStepError(`change kind "${kind ?? ""}" is not add_learner, promote or remove`);
    }
    const result = this.net().node(id).proposeMembershipChange(change);
    this.net().processReady(id);
    this.output.push(`change: ${renderResult(result)}`);
  }

  private transfer(args: string[]): void {
    const id = this.nodeArg(args, 0);
    const accepted = this.net().node(id).transferLeadership(args[1] ?? "");
    this.net().processReady(id);
    this.output.push(`transfer: ${accepted ? "started" : "refused"}`);
  }

  private drop(): void {
    const dropped = this.net().pending().length;
    this.net().drop();
    this.output.push(`dropped ${dropped} messages`);
  }

  /** `status` (every node) or `status n1 n2`; printed even with `quiet`. */
  private status(args: string[]): void {
    const ids = args.length === 0 ? this.net().ids : args.map((_, position) => this.nodeArg(args, position));
    for (const id of ids) this.output.push(renderStatus(this.net().node(id).status()));
  }
}

function renderResult(result: object): string {
  return Object.entries(result)
    .map(([key, value]) => (key === "members" && Array.isArray(value) ? `members=(${renderMembers(value as Member[])})` : `${key}=${String(value)}`))
    .join(" ");
}
