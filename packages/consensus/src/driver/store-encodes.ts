import type { Member } from "@lockstep/protocol";
import type { Definition } from "@lockstep/state-machine";

/** The store's bytes as of one applied index, with what a backup's header needs of the same moment. */
export interface StoreEncoding {
  ok: true;
  /** The store's applied index: the bytes hold every entry up to it and nothing after. */
  index: number;
  term: number;
  /** The configuration as of `index`. */
  members: Member[];
  definitionHash: string;
  definition: Definition;
  data: Uint8Array;
}

export type StoreEncodingOutcome = StoreEncoding | { ok: false; code: "overloaded" | "shutting_down" };

/**
 * Requests for the store's bytes (a backup), served by the Ready loop between two Readys so that
 * nothing applies while the store is encoded in steps. Requests that wait together share one
 * encoding: ten backups at once cost one. Bounded by `waitingMax`; a request over the bound is
 * answered `overloaded` at once.
 */
export class StoreEncodes {
  private waiting: ((outcome: StoreEncodingOutcome) => void)[] = [];
  private serving: ((outcome: StoreEncodingOutcome) => void)[] = [];

  constructor(private readonly waitingMax: number) {}

  /** Whether a request waits for the Ready loop to serve it. */
  get pending(): boolean {
    return this.waiting.length > 0;
  }

  add(): Promise<StoreEncodingOutcome> {
    if (this.waiting.length >= this.waitingMax) return Promise.resolve({ ok: false, code: "overloaded" });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Takes every waiting request for one encoding; requests added meanwhile wait for the next. */
  begin(): void {
    this.serving = this.waiting;
    this.waiting = [];
  }

  /** Answers the requests `begin` took. */
  finish(encoding: StoreEncoding): void {
    const serving = this.serving;
    this.serving = [];
    for (const resolve of serving) resolve(encoding);
  }

  /** Answers every request, taken or waiting, `shutting_down`. */
  failAll(): void {
    const all = [...this.serving, ...this.waiting];
    this.serving = [];
    this.waiting = [];
    for (const resolve of all) resolve({ ok: false, code: "shutting_down" });
  }
}
