export { createRandom, fork, pickOne, randomInt } from "./seeded-random.js";
export { defaultTimersMax, VirtualClock, type VirtualClockOptions } from "./virtual-clock.js";
export {
  defaultInflightPerLinkMax,
  MemoryNetwork,
  type MemoryNetworkOptions,
  type NetworkEvent,
} from "./memory-network.js";
export {
  defaultLinkFaults,
  dropReasons,
  type DropReason,
  type LatencyFunction,
  type LinkFaults,
  type NetworkStats,
} from "./network-faults.js";
export { LinkCuts } from "./link-cuts.js";
