import { ConsensusNode } from "@lockstep/consensus";
import type { DriverConfig, Logger, RandomSource, Transport } from "@lockstep/consensus";
import type { ConsensusEnvelope, Envelope, NodeId } from "@lockstep/protocol";
import { lifecycleDefinition } from "@lockstep/state-machine";
import type { DiskFaults } from "@lockstep/storage";
import { fork } from "@lockstep/transport-memory";
import type { MemoryNetwork, VirtualClock } from "@lockstep/transport-memory";
import { CommitQuorumCheck } from "./monitor/commit-quorum.js";
import { ReplacedDiskViews } from "./monitor/replaced-disk-views.js";
import { MembershipChangeCheck } from "./monitor/membership-change-check.js";
import type { SafetyMonitor } from "./monitor/safety-monitor.js";
import { NodeClock } from "./node-clock.js";
import { SimStorage } from "./sim-storage.js";

/**
 * Messages held for a paused node (in each direction) at most; beyond it they are dropped, as a
 * full socket buffer would drop them.
 */
const heldMessagesMax = 10_000;
/** A node that exited after an I/O error is started again this long after, as a supervisor would. */
const supervisorRestartDelayMs = 300;

interface SimMember {
  id: NodeId;
  storage: SimStorage;
  node: ConsensusNode | null;
  /** The node's own clock: skewed, and paused by clock faults. Kept across restarts, as a machine's clock is. */
  clock: NodeClock;
  /** While the clock is paused nothing of the node runs: what it receives or sends waits here. */
  heldInbound: ConsensusEnvelope[];
  heldOutbound: Envelope[];
  handler: ((envelope: ConsensusEnvelope) => void) | null;
  /** The network endpoint of the current incarnation. */
  endpoint: Transport | null;
  /**
   * Bumped by every power cut and disk replacement, also of a node that is not running: a start in
   * progress that sees it move was killed with its machine and goes no further.
   */
  powerCycles: number;
  /** Starts in progress, told when the machine loses power: a dead process's calls never settle. */
  powerCutListeners: Set<() => void>;
  /** Bumped by every start: a transport of an older incarnation sends nothing. */
  incarnation: number;
  /** Set by `silence`: this incarnation sends nothing more (its crash falls right after a message). */
  silenced: boolean;
  /** A crash whose packets already on the wire still arrive: the network forgets the node only at restart. */
  networkCrashDeferred: boolean;
  /** Storage refused to start (damage it will not repair): the node stays down, it did not lose data while up. */
  downForGood: string | null;
  /** A supervisor restart is scheduled (the node exited after an I/O error). */
  restartScheduled: boolean;
  /** Added by membership churn: it starts with no configuration and learns it from the leader (DESIGN.md §9). */
  joiner: boolean;
  /** Removed from the cluster and its machine gone: it never starts again. */
  retired: boolean;
  /**
   * After a wipe: the cluster's commit index when the disk went. Until this node's durable log
   * covers it, it has not caught up and must grant no vote (protocol-aware recovery).
   */
  repairIndex: number | null;
}

/** Sees every message a node sends, before the network: returns "drop" to swallow it. */
export type SendInterceptor = (from: NodeId, envelope: Envelope) => "pass" | "drop";

/**
 * The simulated cluster: nodes on one virtual clock and one memory network, each running the real
 * `FileStorage` over its own simulated disk, which tears and loses unsynced writes when the node
 * crashes (and fails I/O or rots synced bits, per the seed). Crash and restart keep the disk.
 */
export class SimCluster {
  readonly members = new Map<NodeId, SimMember>();

  constructor(
    private readonly context: {
      clock: VirtualClock;
      network: MemoryNetwork;
      random: RandomSource;
      monitor: SafetyMonitor;
      cluster: string;
      ids: NodeId[];
      driverConfig: Partial<DriverConfig>;
      /** Each node's clock rate before any clock fault (skew). */
      clockRateOf: (id: NodeId) => number;
      /** What every node's simulated disk does wrong (drawn per seed). */
      diskFaults: DiskFaults;
      /** Test-only broken rule `hard_state_before_entries`, applied in storage. */
      hardStateBeforeEntries?: boolean;
    },
  ) {
    this.commitQuorum = new CommitQuorumCheck(context.ids);
    for (const id of context.ids) this.createMember(id, false);
  }

  private createMember(id: NodeId, joiner: boolean): void {
    if (this.members.has(id)) throw new Error(`simulated node ${id} exists already`);
    const storage = this.newStorage(id);
    const clock = new NodeClock(this.context.clock);
    clock.setRate(this.context.clockRateOf(id));
    const member: SimMember = {
      id,
      storage,
      node: null,
      clock,
      heldInbound: [],
      heldOutbound: [],
      handler: null,
      endpoint: null,
      incarnation: 0,
      powerCycles: 0,
      powerCutListeners: new Set(),
      silenced: false,
      networkCrashDeferred: false,
      downForGood: null,
      restartScheduled: false,
      joiner,
      retired: false,
      repairIndex: null,
    };
    clock.onResume(() => this.releaseHeld(member));
    this.members.set(id, member);
    this.diskViews.add(id, storage);
  }

  /**
   * A new machine for membership churn: a fresh id on an empty disk, not started. Started, it
   * joins with no configuration (as `lockstep start --join` does) and waits for the leader.
   */
  addNode(id: NodeId): void {
    this.createMember(id, true);
  }

  /** A removed member's machine is gone: it stops now (as a power cut) and never starts again. */
  retire(id: NodeId): void {
    const member = this.member(id);
    this.crash(id);
    member.retired = true;
    member.restartScheduled = false;
  }

  isRetired(id: NodeId): boolean {
    return this.member(id).retired;
  }

  /** Every node that is not retired (started or down): what partitions and crashes pick from. */
  ids(): NodeId[] {
    return [...this.members.values()].filter((member) => !member.retired).map((member) => member.id);
  }

  /**
   * The configuration as the most advanced live node has applied it (the bootstrap voters before
   * any node applied one): who must converge at the end, and how many voters a crash budget is
   * counted against.
   */
  configuration(): { voters: NodeId[]; members: NodeId[] } {
    let best: ConsensusNode | null = null;
    let bestApplied = -1;
    for (const node of this.liveNodes()) {
      // `summary()`, not `status()`: this runs after every event of a liveness wait, and status()
      // copies the configuration and the progress.
      const applied = node.summary().appliedIndex;
      if (applied > bestApplied) {
        best = node;
        bestApplied = applied;
      }
    }
    const members = best?.members() ?? [];
    if (members.length === 0) return { voters: [...this.context.ids], members: [...this.context.ids] };
    return { voters: members.filter((member) => member.voter).map((member) => member.id), members: members.map((member) => member.id) };
  }

  /** Live nodes of the current configuration (voters and learners): the ones that must converge. */
  memberNodes(): ConsensusNode[] {
    const members = new Set(this.configuration().members);
    return this.liveNodes().filter((node) => members.has(node.summary().id));
  }

  /**
   * Disk damage spent per node: each rot of synced data or replaced disk is one unit. Together they
   * hit at most a minority of the voters of the configuration now (membership churn changes it); a
   * retired machine's damage no longer counts, its disk left with it.
   */
  private readonly diskDamage = new Map<NodeId, number>();

  /** The units of disk damage on machines still in the cluster. */
  private diskDamageSpent(): number {
    let spent = 0;
    for (const [id, units] of this.diskDamage) if (!this.member(id).retired) spent += units;
    return spent;
  }

  /**
   * Whether one more unit of disk damage keeps the damage on a minority of the voters of every
   * configuration that may be in force: the one applied, and any a node's log (running or down) holds uncommitted
   * (a removal that commits after the damage must not leave a damaged majority behind).
   */
  mayDamageDisk(): boolean {
    let voters = this.configuration().voters.length;
    for (const member of this.members.values()) {
      if (member.retired) continue;
      const logged = latestLoggedVoters(member.storage);
      if (logged !== null) voters = Math.min(voters, logged);
    }
    return this.diskDamageSpent() < Math.floor((voters - 1) / 2);
  }

  /** Records one unit of disk damage on `id` (after `mayDamageDisk` allowed it). */
  spendDiskDamage(id: NodeId): void {
    this.diskDamage.set(id, (this.diskDamage.get(id) ?? 0) + 1);
  }

  /** Machines in the cluster whose disk was damaged this run (rotted, replaced, or refused at start). */
  damagedDisks(): Set<NodeId> {
    return new Set([...this.diskDamage.keys(), ...this.downForGood()].filter((id) => !this.member(id).retired));
  }

  private newStorage(id: NodeId): SimStorage {
    const storage = new SimStorage({
      clock: this.context.clock,
      random: fork(this.context.random),
      faults: this.context.diskFaults,
      ...(this.context.hardStateBeforeEntries === true ? { hardStateBeforeEntries: true } : {}),
      mayRot: () => {
        if (!this.mayDamageDisk()) return false;
        this.spendDiskDamage(id);
        return true;
      },
      onViolation: (detail) => this.context.monitor.report("storage_durability", `${id}: ${detail}`),
      onPowerCut: () => this.cutPowerDuringWrite(id),
    });
    // A disk put in during the liveness phase (`replaceRefusedDisks`) is as healthy as the others
    // by then: it must not fail I/O, rot, or lose power in the middle of a write. Before this, the
    // replacement kept the seed's faults, and a new refusal kept its node down for good (seeds
    // 305870 and 513396: no election could then gather every voter's answer).
    if (this.storageFaultsStopped) storage.stopFaults();
    return storage;
  }

  /**
   * Replaces a crashed node's disk with an empty one (a machine whose disk died, started again
   * under its old id). The node starts with `possibleLoss`: it may have voted and acknowledged
   * before, so it must not vote until a leader has brought it up to date. For the commit-quorum
   * check the old disk still counts for what it had acknowledged: a leader trusts acknowledgments,
   * and losing one disk is one failure, which a majority quorum tolerates.
   */
  wipe(id: NodeId, commitIndex: number): void {
    const member = this.member(id);
    if (member.node !== null) throw new Error(`wipe: ${id} is running; crash it first`);
    const fresh = this.newStorage(id);
    this.replacedStorages.push(member.storage);
    member.storage = fresh;
    member.repairIndex = commitIndex > 0 ? commitIndex : null;
    // A machine that joined and then lost its disk starts again as a member the cluster knows,
    // with the current voters in its config file (as the founders do), not as a new machine that
    // knows no configuration: an empty disk under a known id must recover (HistoryProbe) before
    // it votes, and one that looked like a fresh joiner voted with the log it lost (seed 2300338).
    member.joiner = false;
    this.cutPower(member);
    // A node its damaged disk kept down comes back on the new one.
    member.downForGood = null;
    this.diskViews.replaced(id, fresh, member.incarnation);
  }

  /** Disks taken out by `wipe`: their counters still belong to the run's totals. */
  private readonly replacedStorages: SimStorage[] = [];

  /** Every disk of the run, the replaced ones included (for the closing line's storage counters). */
  storages(): SimStorage[] {
    return [...this.replacedStorages, ...[...this.members.values()].map((member) => member.storage)];
  }

  private readonly interceptors: SendInterceptor[] = [];
  private readonly commitQuorum: CommitQuorumCheck;
  private readonly membershipCheck = new MembershipChangeCheck();
  /** Each member's disks, old ones included, as each leader may count them (`replaced-disk-views.ts`). */
  private readonly diskViews = new ReplacedDiskViews();

  /** Adds a hook that sees (and may swallow) every message sent from now on. */
  interceptSends(interceptor: SendInterceptor): void {
    this.interceptors.push(interceptor);
  }

  clockOf(id: NodeId): NodeClock {
    return this.member(id).clock;
  }

  /** The node's current incarnation sends nothing more: used to time a crash right after one message. */
  silence(id: NodeId): void {
    this.member(id).silenced = true;
  }

  async startAll(): Promise<void> {
    for (const id of this.context.ids) await this.start(id);
  }

  /** Nodes whose storage refused to start: down for good, not nodes that lost data while up. */
  downForGood(): NodeId[] {
    return [...this.members.values()].filter((member) => member.downForGood !== null).map((member) => member.id);
  }

  /** Set by `stopStorageFaults`: from then on every disk, a replacement too, is healthy. */
  private storageFaultsStopped = false;

  /** The liveness phase: disks stop failing I/O and rotting; nodes that exited start again now. */
  async stopStorageFaults(): Promise<void> {
    this.storageFaultsStopped = true;
    for (const member of this.members.values()) member.storage.stopFaults();
    for (const member of this.members.values()) if (member.restartScheduled) await this.start(member.id);
  }

  /**
   * The liveness phase: the operator's runbook for a node whose storage refused to start
   * (docs/operations.md, "Corrupt write-ahead log"): its damaged disk is replaced by an empty one
   * and it starts again under its old id, knowing it may have lost data. A cluster that also has a
   * node recovering from a possible loss can elect again only with every voter's answer, so a node
   * left down for good would keep it without a leader for ever, which no operator leaves it in.
   */
  async replaceRefusedDisks(): Promise<void> {
    this.replacingRefusedDisks = true;
    for (const id of this.downForGood()) await this.replaceDisk(id);
  }

  /**
   * Set by `replaceRefusedDisks`: a start that is still recovering when the pass runs and is then
   * refused gets its disk replaced too, as the runbook would (seed 906790: n3's start began before
   * the pass and was refused after it, so n3 stayed down for good while an empty-disk voter waited
   * for its answer).
   */
  private replacingRefusedDisks = false;

  private readonly replacedInLivenessPhase = new Set<NodeId>();

  private async replaceDisk(id: NodeId): Promise<void> {
    this.replacedInLivenessPhase.add(id);
    this.wipe(id, Math.max(0, ...this.liveNodes().map((node) => node.status().commitIndex)));
    await this.start(id);
  }

  /**
   * Starts a node: storage recovers from what its disk holds. A refusal (`corrupt`) keeps the
   * node down for good; a failed read at start makes it exit, and its supervisor tries again.
   */
  async start(id: NodeId): Promise<void> {
    const member = this.member(id);
    if (member.node !== null || member.downForGood !== null || member.retired) return;
    member.restartScheduled = false;
    const { storage } = member;
    const powerCycles = member.powerCycles;
    if (process.env["SIM_STORAGE_DEBUG"] !== undefined) console.error("START", id, member.incarnation, this.context.clock.nowMs());
    const opened = await this.unlessPowerCut(member, storage.open());
    // The machine lost power (or had its disk replaced) while this process was recovering.
    if (opened === powerCut || member.powerCycles !== powerCycles) return;
    if (!opened.ok) {
      if (!opened.permanent) this.scheduleSupervisorRestart(member);
      // A healthy replacement disk is never refused; if it were, the node stays down (and the run says so).
      else if (this.replacingRefusedDisks && !this.replacedInLivenessPhase.has(id)) await this.replaceDisk(id);
      else member.downForGood = opened.reason;
      return;
    }
    if (member.networkCrashDeferred) this.context.network.crash(id);
    member.networkCrashDeferred = false;
    member.silenced = false;
    member.incarnation++;
    this.context.network.restart(id);
    // A node on a replaced, empty disk is told nothing: like a real one, it finds out from the
    // other voters that the cluster has a history (the core's HistoryProbe, DESIGN.md §9).
    const transport = this.monitoredTransport(member, this.context.network.endpoint(id));
    const incarnation = member.incarnation;
    const starting = ConsensusNode.start({
      id,
      cluster: this.context.cluster,
      // The member list of its config file, used only while its disk names no configuration
      // (a new cluster, or a disk replaced under the old id): the voters of the configuration
      // now, as an operator keeps that file. The founders' list would be stale once membership
      // changed: a node on a replaced disk waits for a HistoryReport from every voter it lists,
      // and a removed machine that is gone never answers (seeds 10, 15, 80, ... of CI with churn).
      members: member.joiner ? [] : this.configuration().voters,
      definition: lifecycleDefinition,
      transport,
      storage,
      ...(process.env.LOCKSTEP_SIM_TRACE === undefined ? {} : { logger: traceLogger({ node: id, incarnation }, () => this.context.clock.nowMs()) }),
      clock: member.clock,
      random: fork(this.context.random),
      // One per start of this member, so every process of it answers with its own.
      incarnation,
      config: this.context.driverConfig,
      // Storage failed (EIO, ENOSPC): the process exits, as a real node does, and is restarted.
      onFatal: () => this.exitAfterIoError(member, incarnation),
      // Batched proposals run as microtasks: one that throws is reported with the seed instead of
      // escaping as an uncaught exception.
      schedule: (callback) =>
        queueMicrotask(() => {
          try {
            callback();
          } catch (error) {
            this.context.monitor.report("invariant", `${id} threw: ${error instanceof Error ? error.message : String(error)}`);
          }
        }),
    });
    const node = await this.unlessPowerCut(member, starting).catch((error: unknown) => {
      if (member.powerCycles !== powerCycles) return error instanceof Error ? error : new Error(String(error));
      // A read failed while loading (a latent sector error): the process exits before it runs.
      storage.detach();
      this.scheduleSupervisorRestart(member);
      return error instanceof Error ? error : new Error(String(error));
    });
    if (node === powerCut || node instanceof Error) return;
    if (member.powerCycles !== powerCycles) {
      node.halt();
      return;
    }
    node.onApplied((event) => this.context.monitor.observeApplied(id, event.index, event.term, event.command));
    member.node = node;
  }

  /** The machine loses power (or its disk): a start in progress dies with it. */
  private cutPower(member: SimMember): void {
    member.powerCycles++;
    const listeners = [...member.powerCutListeners];
    member.powerCutListeners.clear();
    for (const listener of listeners) listener();
  }

  /**
   * `work`, or `powerCut` if the machine loses power first: the calls of a process that died
   * never settle (its file system stops answering), so a start must not wait for them.
   */
  private unlessPowerCut<T>(member: SimMember, work: Promise<T>): Promise<T | typeof powerCut> {
    return new Promise<T | typeof powerCut>((resolve, reject) => {
      const listener = (): void => resolve(powerCut);
      member.powerCutListeners.add(listener);
      work.then(
        (value) => {
          member.powerCutListeners.delete(listener);
          resolve(value);
        },
        (error: unknown) => {
          member.powerCutListeners.delete(listener);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /**
   * A power cut while a write is in flight: at the same instant, once the current step is done
   * (its bytes are in the page cache, its fsync is not done), then a restart a little later.
   */
  private cutPowerDuringWrite(id: NodeId): void {
    const member = this.member(id);
    const incarnation = member.incarnation;
    this.context.clock.setTimeout(() => {
      if (member.incarnation !== incarnation || member.node === null) return;
      this.crash(id);
      this.scheduleSupervisorRestart(member);
    }, 0);
  }

  private exitAfterIoError(member: SimMember, incarnation: number): void {
    if (member.incarnation !== incarnation || member.node === null) return;
    member.node.halt();
    member.node = null;
    member.incarnation++;
    member.storage.detach();
    member.heldInbound = [];
    member.heldOutbound = [];
    member.handler = null;
    member.endpoint = null;
    this.context.network.crash(member.id);
    this.scheduleSupervisorRestart(member);
  }

  private scheduleSupervisorRestart(member: SimMember): void {
    if (member.restartScheduled) return;
    member.restartScheduled = true;
    this.context.clock.setTimeout(() => {
      if (member.restartScheduled) void this.start(member.id);
    }, supervisorRestartDelayMs);
  }

  /**
   * Stops a node the way a power cut would: nothing more is sent or written, unsynced writes are
   * lost, and a pause in progress ends with the machine. With `inflightSurvives`, messages already
   * on the wire still arrive; otherwise they die with the node (its send buffers were in memory).
   */
  crash(id: NodeId, options: { inflightSurvives?: boolean } = {}): void {
    const member = this.member(id);
    if (member.node === null) {
      // No process runs (it exited after an I/O error, or is still recovering): the power cut
      // still takes the writes it left unsynced in the page cache, and kills a recovery in progress.
      if (member.downForGood === null) {
        this.cutPower(member);
        member.storage.crash();
      }
      return;
    }
    member.node.halt();
    member.node = null;
    member.incarnation++;
    this.cutPower(member);
    // A power cut: the disk keeps what its model says of every write not yet synced.
    member.storage.crash();
    member.heldInbound = [];
    member.heldOutbound = [];
    member.handler = null;
    member.endpoint = null;
    member.clock.resume();
    if (options.inflightSurvives === true) member.networkCrashDeferred = true;
    else this.context.network.crash(id);
  }

  /** Ends every clock fault: pauses end now and every clock runs at its base rate again. */
  healClocks(): void {
    for (const member of this.members.values()) {
      member.clock.resume();
      member.clock.setRate(this.context.clockRateOf(member.id));
    }
  }

  liveNodes(): ConsensusNode[] {
    const nodes: ConsensusNode[] = [];
    for (const member of this.members.values()) if (member.node !== null) nodes.push(member.node);
    return nodes;
  }

  node(id: NodeId): ConsensusNode | null {
    return this.member(id).node;
  }

  private readonly newLeaderListeners: Array<(id: NodeId) => void> = [];
  /** The highest term a leader was seen in: a leader of a higher one is new. */
  private leaderTermSeen = 0;

  /** Calls `listener` with each new leader, once per term, right after the event that elected it. */
  onNewLeader(listener: (id: NodeId) => void): void {
    this.newLeaderListeners.push(listener);
  }

  /** Election safety, checked after every event: record each node that believes it leads. */
  observeLeaders(): void {
    for (const member of this.members.values()) {
      const node = member.node;
      if (node === null) continue;
      // `summary()`, not `status()`: it copies nothing, and this runs after every event.
      const status = node.summary();
      if (status.role !== "leader") continue;
      this.context.monitor.observeLeader(status.id, status.term);
      if (status.term > this.leaderTermSeen) {
        this.leaderTermSeen = status.term;
        for (const listener of this.newLeaderListeners) listener(status.id);
      }
      const disk = this.member(status.id).storage;
      const problem = this.commitQuorum.observe(status.id, status.term, status.commitIndex, disk, this.diskViews.logsFor(status.id, status.term), disk);
      if (problem !== null) this.context.monitor.report("commit_quorum", problem);
    }
  }

  assertInvariants(): void {
    for (const node of this.liveNodes()) node.assertInvariants();
  }

  private member(id: NodeId): SimMember {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`unknown simulated node ${id}`);
    return member;
  }

  /**
   * The node's transport: every send is checked by the monitor (against the durable state at that
   * instant), shown to the interceptors, and held while the node is paused; every delivery is held
   * while it is paused too.
   */
  private monitoredTransport(member: SimMember, inner: Transport): Transport {
    const monitor = this.context.monitor;
    const incarnation = member.incarnation;
    const alive = (): boolean => member.incarnation === incarnation && !member.silenced;
    member.endpoint = inner;
    return {
      send: (envelope: Envelope) => {
        monitor.observeSend(member.id, envelope, member.storage);
        this.checkMembershipRules(member, envelope);
        if (!alive()) return;
        for (const interceptor of this.interceptors) if (interceptor(member.id, envelope) === "drop") return;
        if (member.clock.paused) {
          if (member.heldOutbound.length < heldMessagesMax) member.heldOutbound.push(envelope);
          return;
        }
        inner.send(envelope);
      },
      onMessage: (handler: (envelope: ConsensusEnvelope) => void) => {
        const handle = (envelope: ConsensusEnvelope): void => {
          this.noteDelivery(member, envelope);
          handler(envelope);
        };
        member.handler = handle;
        inner.onMessage((envelope) => {
          if (!member.clock.paused) return handle(envelope);
          if (member.heldInbound.length < heldMessagesMax) member.heldInbound.push(envelope);
        });
      },
      close: () => inner.close(),
    };
  }

  /** Tells the disk views which of the sender's disks a leader has now heard from. */
  private noteDelivery(receiver: SimMember, envelope: ConsensusEnvelope): void {
    // Runs for every message: the cheap tests first (most senders never lost a disk).
    const type = envelope.body.type;
    if ((type !== "Acknowledgment" && type !== "Reject") || !this.diskViews.wasReplaced(envelope.from)) return;
    const sender = this.members.get(envelope.from);
    const summary = receiver.node?.summary();
    if (sender === undefined || summary === undefined) return;
    this.diskViews.delivered(receiver.id, summary.role === "leader" ? summary.term : null, envelope, sender.incarnation);
  }

  /**
   * Sends `envelope` from `id`'s current incarnation as it is, past the monitor and the send hooks:
   * a message an earlier incarnation sent that reaches the network late (bytes of its connection
   * that the receiver reads after the new one's, `lost-disk-answer-scenario.ts`). False when the
   * node is not running.
   */
  sendLate(id: NodeId, envelope: Envelope): boolean {
    const member = this.member(id);
    if (member.node === null || member.endpoint === null) return false;
    member.endpoint.send(envelope);
    return true;
  }

  /** Whether `leader`, in `term`, has received an answer from `id`'s current disk. */
  leaderHeardFromCurrentDisk(leader: NodeId, term: number, id: NodeId): boolean {
    return this.diskViews.heardFromCurrentDisk(leader, term, id);
  }

  /**
   * The membership rules seen in what a node sends: a leader's configuration changes follow the
   * single-server rules, and a node on a wiped disk grants no vote before it has caught up.
   */
  private checkMembershipRules(member: SimMember, envelope: Envelope): void {
    const body = envelope.body;
    if (body.type === "Proposal" && body.entries.length > 0) {
      const problem = this.membershipCheck.observeProposal(member.id, body, member.storage);
      if (problem !== null) this.context.monitor.report("membership_safety", problem);
      return;
    }
    if (body.type !== "Vote" || !body.granted || body.preVote || member.repairIndex === null) return;
    if (member.storage.durableCovers(member.repairIndex)) {
      member.repairIndex = null;
      return;
    }
    this.context.monitor.report(
      "recovering_vote",
      `${member.id} (on a wiped disk) granted its term-${body.term} vote to ${envelope.to} before it held index ${member.repairIndex}, the commit index when its disk was lost`,
    );
  }

  private releaseHeld(member: SimMember): void {
    const outbound = member.heldOutbound;
    const inbound = member.heldInbound;
    member.heldOutbound = [];
    member.heldInbound = [];
    if (member.node === null) return;
    for (const envelope of outbound) if (!member.silenced) member.endpoint?.send(envelope);
    for (const envelope of inbound) member.handler?.(envelope);
  }
}

/** How many voters the last configuration a durable log holds names (an entry, else its snapshot's; null: none). */
function latestLoggedVoters(storage: SimStorage): number | null {
  const snapshotIndex = storage.durableSnapshotIndex();
  const entries = storage.durableEntriesView();
  for (let position = entries.length - 1; position >= 0; position--) {
    const entry = entries[position];
    if (entry === undefined || entry.index <= snapshotIndex) break;
    if (entry.members !== undefined) return entry.members.filter((member) => member.voter).length;
  }
  // None after the snapshot: the snapshot's configuration is the latest this disk holds. (Without
  // it, a removal folded into a snapshot went unseen, and damage was allowed against the larger
  // configuration a lagging node still applies: seed 2300338.)
  const members = storage.durableSnapshotMembers();
  return members === null || members.length === 0 ? null : members.filter((member) => member.voter).length;
}

/** What a start in progress sees when its machine loses power. */
const powerCut = Symbol("power cut");

/**
 * `LOCKSTEP_SIM_TRACE=1 pnpm sim --seed N ...` prints every node's consensus log lines (info and
 * above; `=debug` for all) with the virtual time in ms, to read why a seed failed.
 */
function traceLogger(bound: object, nowMs: () => number): Logger {
  const emit = (level: "debug" | "info" | "warn" | "error") => (fields: object, message: string) => {
    if (level === "debug" && process.env.LOCKSTEP_SIM_TRACE !== "debug") return;
    process.stderr.write(`${nowMs().toFixed(1)} ${level} ${JSON.stringify({ ...bound, ...fields })} ${message}\n`);
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error"), child: (more) => traceLogger({ ...bound, ...more }, nowMs) };
}
