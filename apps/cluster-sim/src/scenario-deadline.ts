import type { TimerHandle } from "@lockstep/consensus";
import type { VirtualClock } from "@lockstep/transport-memory";

/**
 * The one deadline a timed scenario waits under (a step that must happen in time, or how long its
 * last step holds): setting it again replaces the one before, and it calls `onExpire` once.
 */
export class ScenarioDeadline {
  private handle: TimerHandle | null = null;

  constructor(
    private readonly clock: VirtualClock,
    private readonly onExpire: () => void,
  ) {}

  set(delayMs: number): void {
    this.clear();
    this.handle = this.clock.setTimeout(() => {
      this.handle = null;
      this.onExpire();
    }, delayMs);
  }

  clear(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
  }
}
