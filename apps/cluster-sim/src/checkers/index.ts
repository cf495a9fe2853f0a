export {
  checkLinearizability,
  defaultStatesExploredMax,
  type LinearizabilityOptions,
  type LinearizabilityResult,
} from "./linearizability.js";
export type { CheckedOperation } from "./history-operations.js";
export { lifecycleRegisterDefinition, type RegisterDefinition } from "./register-model.js";
// The simulator takes the recorder from here too, next to the checker that reads its output.
export { HistoryRecorder } from "../history/index.js";
