import type { TimerHandle } from "@lockstep/consensus";
import type { VirtualClock } from "@lockstep/transport-memory";

/**
 * The step a timed scenario is in, and the one deadline it runs under: every step but "hold" must
 * be left within `stepMsMax` virtual ms, and a "hold" lasts what `expireIn` says; when the
 * deadline passes, `onExpire` is called once (the scenario abandons or ends the run).
 */
export class ScenarioSteps<Step extends { readonly name: string }> {
  private current: Step | null = null;
  private handle: TimerHandle | null = null;

  constructor(
    private readonly clock: VirtualClock,
    private readonly stepMsMax: number,
    private readonly onExpire: () => void,
  ) {}

  /** The step of the run in progress; null between runs. */
  get step(): Step | null {
    return this.current;
  }

  enter(step: Step): void {
    this.current = step;
    if (step.name !== "hold") this.expireIn(this.stepMsMax);
  }

  /** Replaces the deadline: the run expires `delayMs` virtual ms from now. */
  expireIn(delayMs: number): void {
    this.clearDeadline();
    this.handle = this.clock.setTimeout(() => {
      this.handle = null;
      this.onExpire();
    }, delayMs);
  }

  /** The run is over: no step, no deadline. */
  end(): void {
    this.clearDeadline();
    this.current = null;
  }

  private clearDeadline(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
  }
}
