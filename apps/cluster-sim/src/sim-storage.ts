import { AssertionError } from "node:assert";
import { emptyHardState } from "@lockstep/consensus";
import type { Clock, HardState, PersistedState, RandomSource, Snapshot, Storage, StorageWrite } from "@lockstep/consensus";
import type { Entry, Member } from "@lockstep/protocol";
import { FileStorage, SimulatedDisk, StorageError } from "@lockstep/storage";
import type { DiskFaults, SimulatedDiskStats } from "@lockstep/storage";

/** Where a simulated node keeps its data, on its own simulated disk. */
const dataDirectory = "/var/lib/lockstep";
/** Small segments, so that runs cross segment rotation and compaction (segment deletion) often. */
const segmentBytesMax = 16 * 1024;

export interface SimStorageOptions {
  clock: Clock;
  random: RandomSource;
  /** What this node's disk does wrong; errors and bit flips stop with `stopFaults()`. */
  faults: DiskFaults;
  /** Test-only broken rule: storage writes the hard state before its entries and trusts it at recovery. */
  hardStateBeforeEntries?: boolean;
  /** Whether a crash may flip a bit of synced data now (the cluster keeps rot to a minority of nodes). */
  mayRot: () => boolean;
  /** Reports a broken storage promise: something whose write had resolved is gone after a restart. */
  onViolation: (detail: string) => void;
  /** Asks for a power cut now, while a write is in flight (`DiskFaults.powerCutDuringWriteProbability`). */
  onPowerCut?: () => void;
}

/** Why a node did not start: its data is damaged (it stays down) or I/O failed (its supervisor retries). */
export type SimStorageOpenResult = { ok: true } | { ok: false; permanent: boolean; reason: string };

export interface SimStorageStats extends SimulatedDiskStats {
  /** Starts refused because storage found damage it will not repair (`corrupt`, a damaged marker). */
  refusedCorrupt: number;
  /** Starts whose storage reported a possible loss of acknowledged data. */
  possibleLosses: number;
  /** Process exits after a failed read, write or fsync (EIO, ENOSPC). */
  ioExits: number;
  /** Writes that replaced entries already in the log (a follower repairing a divergent tail). */
  replacingWrites: number;
  /** Of those, writes whose hard state commits some of the entries they replace (what `hard_state_before_entries` breaks). */
  replacingCommittingWrites: number;
  /** Power cuts asked for while a write was in flight. */
  powerCutsDuringWrites: number;
}

/**
 * What the model keeps of a log entry: its position. Every check compares indexes and terms, so
 * copying commands (a deep clone per entry per write was a tenth of a simulated run) buys nothing.
 */
export interface LogPosition {
  index: number;
  term: number;
  /** The configuration a `members` entry names (shared with the entry: read it only); the checkers judge commits against it. */
  members?: readonly Member[];
}

/** A write as the model records it: its hard state and the positions of its entries. */
interface ModelWrite {
  hardState?: HardState;
  entries: LogPosition[];
}

type Operation = { kind: "persist"; write: ModelWrite } | { kind: "snapshot"; snapshot: Snapshot } | { kind: "compact"; index: number };

/**
 * One node's storage in the simulator: the real `FileStorage` over a `SimulatedDisk`. A crash
 * crashes the disk (unsynced writes kept, lost or torn) and a restart opens `FileStorage` over
 * what survived, as a real process would. Beside it, a model of what the node was promised is
 * durable (every operation whose promise resolved) serves the checkers (`durable...`: nothing
 * acknowledged or voted before it is durable; log matching; leader completeness), and every
 * restart checks that storage kept those promises.
 */
export class SimStorage implements Storage {
  readonly disk: SimulatedDisk;
  private inner: FileStorage | null = null;
  private durable = new LogModel();
  /** Operations handed to storage whose promise has not resolved (they may or may not survive a crash). */
  private pending: Operation[] = [];
  private readonly counters = { refusedCorrupt: 0, possibleLosses: 0, ioExits: 0, replacingWrites: 0, replacingCommittingWrites: 0, powerCutsDuringWrites: 0 };
  private faultsStopped = false;

  constructor(private readonly options: SimStorageOptions) {
    // Bit flips are this class's to draw (bounded by `mayRot`), not the disk's.
    this.disk = new SimulatedDisk({ clock: options.clock, random: options.random, faults: { ...options.faults, crashBitFlipProbability: 0 } });
  }

  /** Opens the storage for a starting process: recovery runs over what the disk holds now. */
  async open(): Promise<SimStorageOpenResult> {
    const fileSystem = this.disk.fileSystem();
    try {
      // The machine's `/var/lib` is made as an operator's `mkdir -p` makes it, syncing nothing:
      // storage must make the whole path of its directory durable before it promises anything.
      for (const path of ["/var", "/var/lib"]) if ((await fileSystem.stat(path).catch(() => null)) === null) await fileSystem.mkdir(path);
      if (process.env["SIM_STORAGE_DEBUG"] !== undefined) {
        console.error("OPEN", JSON.stringify(await fileSystem.readdir(dataDirectory).catch((error: unknown) => String(error))), JSON.stringify(this.disk.stats()));
      }
      this.inner = await FileStorage.open({
        directory: dataDirectory,
        fileSystem,
        random: this.options.random,
        segmentBytesMax,
        entriesInMemoryMax: 256,
        // Entries are immutable by contract; here a change to one after it was handed over throws.
        freezeEntries: true,
        ...(process.env["SIM_STORAGE_DEBUG"] === undefined ? {} : { logger: debugLogger }),
        ...(this.options.hardStateBeforeEntries === true ? { unsafeHardStateBeforeEntries: true } : {}),
      });
    } catch (error) {
      const code = error instanceof StorageError ? error.code : "unknown";
      const permanent = code === "corrupt" || code === "foreign_directory";
      if (permanent) this.counters.refusedCorrupt += 1;
      else this.counters.ioExits += 1;
      if (process.env["SIM_STORAGE_DEBUG"] !== undefined) console.error("OPEN FAILED", String(error));
      return { ok: false, permanent, reason: error instanceof Error ? error.message : String(error) };
    }
    const unsynced = this.disk.unsyncedPaths(dataDirectory);
    if (unsynced.length > 0) this.options.onViolation(`storage recovery left unsynced data behind: ${unsynced.join(", ")}`);
    return { ok: true };
  }

  /** The process exited (after an I/O error) but the machine did not lose power. */
  detach(): void {
    this.disk.detach();
    this.inner = null;
    this.counters.ioExits += 1;
  }

  /** A power cut: the disk keeps what its model says; operations in flight may or may not have made it. */
  crash(): void {
    this.disk.crash();
    if (!this.faultsStopped && this.options.faults.crashBitFlipProbability > 0 && this.options.random() < this.options.faults.crashBitFlipProbability && this.options.mayRot()) {
      this.disk.flipRandomBit();
    }
    this.inner = null;
  }

  /** The liveness phase: the disk stops failing I/O and rotting; crashes still tear what is unsynced. */
  stopFaults(): void {
    this.faultsStopped = true;
    this.disk.stopErrors();
  }

  /**
   * What a restarted process reads back. Checks, before the node sees it, that everything whose
   * write resolved is still there (unless storage said it may have lost the tail), then takes it
   * as the new durable state: recovery synced it all.
   */
  async load(): Promise<PersistedState> {
    const state = await this.storage().load();
    if (state.possibleLoss === true) this.counters.possibleLosses += 1;
    else this.checkKept(state);
    this.durable = LogModel.from(state);
    this.pending = [];
    return state;
  }

  persist(write: StorageWrite): Promise<void> {
    this.maybeCutPower(write);
    return this.track({ kind: "persist", write: { ...(write.hardState === undefined ? {} : { hardState: { ...write.hardState } }), entries: write.entries.map(positionOf) } }, () =>
      this.storage().persist(write),
    );
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.track({ kind: "snapshot", snapshot: copySnapshot(snapshot) }, () => this.storage().saveSnapshot(snapshot));
  }

  compact(index: number): Promise<void> {
    return this.track({ kind: "compact", index }, () => this.storage().compact(index));
  }

  close(): Promise<void> {
    return this.inner?.close() ?? Promise.resolve();
  }

  durableHardState(): HardState {
    return { ...this.durable.hardState };
  }

  /** The positions of the durable log entries (after the durable snapshot, if any), as copies. */
  durableEntries(): LogPosition[] {
    return this.durable.entries.map(positionOf);
  }

  durableSnapshotIndex(): number {
    return this.durable.snapshot?.meta.index ?? 0;
  }

  /** The durable log entries themselves (shared, not copied: read them only). */
  durableEntriesView(): readonly LogPosition[] {
    return this.durable.entries;
  }

  /** The last index the durable log holds (the durable snapshot's when no entry follows it). */
  durableLastIndex(): number {
    return this.durable.entries.length > 0 ? this.durable.firstIndex + this.durable.entries.length - 1 : this.durableSnapshotIndex();
  }

  /** The durable entry at `index` (shared, not copied: read it only), or undefined when not held. */
  durableEntryAt(index: number): LogPosition | undefined {
    return index >= this.durable.firstIndex ? this.durable.entries[index - this.durable.firstIndex] : undefined;
  }

  /** The configuration the durable snapshot carries (null without a snapshot or when it names none). */
  durableSnapshotMembers(): readonly Member[] | null {
    const members = this.durable.snapshot?.meta.members;
    return members === undefined || members.length === 0 ? null : members;
  }

  /** The term of the durable entry at `index` (or of the durable snapshot's last entry); null if neither holds it. */
  durableTermAt(index: number): number | null {
    return this.durable.termAt(index);
  }

  /** True if `index` is durable here: held in the durable log, or covered by the durable snapshot. */
  durableCovers(index: number): boolean {
    return index <= this.durableSnapshotIndex() || this.durable.termAt(index) !== null;
  }

  stats(): SimStorageStats {
    return { ...this.disk.stats(), ...this.counters };
  }

  private maybeCutPower(write: StorageWrite): void {
    const base = this.options.faults.powerCutDuringWriteProbability;
    if (this.faultsStopped || base === 0 || this.options.onPowerCut === undefined) return;
    const first = write.entries[0];
    const replacing = first !== undefined && first.index <= this.durable.firstIndex + this.durable.entries.length - 1;
    if (replacing) this.counters.replacingWrites += 1;
    if (replacing && write.hardState !== undefined && first !== undefined && write.hardState.commitIndex >= first.index) this.counters.replacingCommittingWrites += 1;
    // A write that replaces entries is where the order of records matters most: cut it every time.
    const chance = replacing ? 1 : write.hardState !== undefined ? Math.min(0.5, base * 20) : base;
    if (this.options.random() < chance) {
      this.counters.powerCutsDuringWrites += 1;
      this.options.onPowerCut();
    }
  }

  private storage(): FileStorage {
    if (this.inner === null) throw new AssertionError({ message: "SimStorage used while its node is not running" });
    return this.inner;
  }

  /** Runs an operation; once its promise resolves it is durable, in call order, as storage promises. */
  private track(operation: Operation, run: () => Promise<void>): Promise<void> {
    this.pending.push(operation);
    return run().then(() => {
      const position = this.pending.indexOf(operation);
      if (position !== 0) throw new AssertionError({ message: `storage resolved an operation out of call order (position ${position})` });
      this.pending.shift();
      this.durable.apply(operation);
    });
  }

  /** Every durable entry below what an unresolved write could replace must have survived, and so must term and vote. */
  private checkKept(state: PersistedState): void {
    const { durable } = this;
    const problems: string[] = [];
    if (state.hardState.term < durable.hardState.term) problems.push(`term ${state.hardState.term} < durable term ${durable.hardState.term}`);
    if (state.hardState.term === durable.hardState.term && durable.hardState.votedFor !== null && state.hardState.votedFor !== durable.hardState.votedFor) {
      problems.push(`vote in term ${durable.hardState.term} was ${durable.hardState.votedFor}, read back ${String(state.hardState.votedFor)}`);
    }
    const snapshotIndex = state.snapshot?.meta.index ?? 0;
    // A leader's snapshot whose save was in flight (or failed) replaces the whole log once the
    // snapshot itself is durable: if it was read back, the entries after it may be gone. They
    // were never committed (they disagree with the committed entry at the snapshot's index).
    const snapshotInstalled = this.pending.some(
      (operation) => operation.kind === "snapshot" && operation.snapshot.meta.index === snapshotIndex && operation.snapshot.meta.term === state.snapshot?.meta.term,
    );
    const floor = this.pending.reduce(
      (lowest, operation) => Math.min(lowest, operation.kind === "persist" ? (operation.write.entries[0]?.index ?? lowest) : lowest),
      snapshotInstalled ? snapshotIndex + 1 : Number.POSITIVE_INFINITY,
    );
    if (snapshotIndex < (durable.snapshot?.meta.index ?? 0)) problems.push(`snapshot ${snapshotIndex} older than the durable snapshot ${durable.snapshot?.meta.index ?? 0}`);
    const loaded = new Map(state.entries.map((entry) => [entry.index, entry.term]));
    for (const entry of durable.entries) {
      if (entry.index >= floor || entry.index <= snapshotIndex) continue;
      const term = loaded.get(entry.index);
      if (term !== entry.term) {
        problems.push(`entry ${entry.index} (term ${entry.term}) was durable, read back ${term === undefined ? "nothing" : `term ${term}`}`);
        break;
      }
    }
    if (problems.length > 0) this.options.onViolation(`storage lost what it had made durable: ${problems.join("; ")}`);
    this.checkHardStateCameWithItsEntries(state);
  }

  /**
   * A hard state from a write that was in flight at the crash may survive only with the entries
   * of the same write (they precede it): a commit index read without them could name entries it
   * was never written for.
   */
  private checkHardStateCameWithItsEntries(state: PersistedState): void {
    const persists = this.pending.flatMap((operation) => (operation.kind === "persist" ? [operation.write] : []));
    const position = persists.findLastIndex((write) => write.hardState !== undefined && sameHardState(write.hardState, state.hardState));
    const write = persists[position];
    if (write?.hardState === undefined || sameHardState(write.hardState, this.durable.hardState) || write.entries.length === 0) return;
    const last = write.entries.at(-1)?.index ?? 0;
    // A later write in flight that replaces these entries makes their absence explainable.
    if (persists.slice(position + 1).some((later) => (later.entries[0]?.index ?? Number.POSITIVE_INFINITY) <= last)) return;
    const loaded = new Map(state.entries.map((entry) => [entry.index, entry.term]));
    const snapshotIndex = state.snapshot?.meta.index ?? 0;
    const missing = write.entries.find((entry) => entry.index > snapshotIndex && loaded.get(entry.index) !== entry.term);
    if (missing !== undefined) {
      this.options.onViolation(
        `the hard state (term ${write.hardState.term}, commit ${write.hardState.commitIndex}) of an unsynced write survived the crash without entry ${missing.index} of the same write`,
      );
    }
  }
}

/** One node's log as a disk would hold it: hard state, snapshot, then entries `firstIndex...`. */
class LogModel {
  hardState: HardState = { ...emptyHardState };
  snapshot: Snapshot | null = null;
  entries: LogPosition[] = [];
  firstIndex = 1;

  static from(state: PersistedState): LogModel {
    const model = new LogModel();
    model.hardState = { ...state.hardState };
    model.snapshot = state.snapshot === null ? null : copySnapshot(state.snapshot);
    model.entries = state.entries.map(positionOf);
    model.firstIndex = state.entries[0]?.index ?? (state.snapshot?.meta.index ?? 0) + 1;
    return model;
  }

  termAt(index: number): number | null {
    const entry = index >= this.firstIndex ? this.entries[index - this.firstIndex] : undefined;
    if (entry !== undefined) return entry.term;
    return this.snapshot !== null && this.snapshot.meta.index === index ? this.snapshot.meta.term : null;
  }

  apply(operation: Operation): void {
    switch (operation.kind) {
      case "persist":
        return this.applyWrite(operation.write);
      case "snapshot":
        return this.applySnapshot(operation.snapshot);
      case "compact":
        return this.applyCompact(operation.index);
    }
  }

  private applyWrite(write: ModelWrite): void {
    if (write.hardState !== undefined) this.hardState = { ...write.hardState };
    const first = write.entries[0];
    if (first === undefined) return;
    if (this.entries.length === 0) this.firstIndex = first.index;
    // Raft §5.3: a write at an existing index replaces that entry and everything after it.
    this.entries.length = Math.max(0, first.index - this.firstIndex);
    // The write's positions are the model's own copies (made when it was handed to storage).
    this.entries.push(...write.entries);
  }

  private applySnapshot(snapshot: Snapshot): void {
    // Raft §7: keep the log after the snapshot only if it holds the snapshot's last entry with its term.
    if (this.termAt(snapshot.meta.index) !== snapshot.meta.term) {
      this.entries = [];
      this.firstIndex = snapshot.meta.index + 1;
    }
    this.snapshot = snapshot;
  }

  private applyCompact(index: number): void {
    if (index < this.firstIndex) return;
    this.entries = this.entries.slice(index + 1 - this.firstIndex);
    this.firstIndex = index + 1;
  }
}

const debugLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (fields: object, message: string) => console.error("WARN", message, JSON.stringify(fields)),
  error: (fields: object, message: string) => console.error("ERROR", message, JSON.stringify(fields)),
  child: () => debugLogger,
};

function sameHardState(left: HardState, right: HardState): boolean {
  return left.term === right.term && left.votedFor === right.votedFor && left.commitIndex === right.commitIndex;
}

function positionOf(entry: LogPosition | Entry): LogPosition {
  if ("command" in entry) return entry.command.kind === "members" ? { index: entry.index, term: entry.term, members: entry.command.members } : { index: entry.index, term: entry.term };
  return entry.members === undefined ? { index: entry.index, term: entry.term } : { index: entry.index, term: entry.term, members: entry.members };
}

function copySnapshot(snapshot: Snapshot): Snapshot {
  return { meta: { ...snapshot.meta, members: [...snapshot.meta.members] }, data: new Uint8Array(snapshot.data) };
}
