export { LockstepClient, type ClusterOptions, type DeleteOptions, type GetOptions, type ListOptions, type TransitionOptions } from "./lockstep-client.js";
export { clientDefaults, type LockstepClientOptions } from "./client-options.js";
export {
  isOutcomeUnknown,
  isRefusal,
  LockstepError,
  type LockstepErrorCode,
  type LockstepErrorDetails,
  type LockstepErrorOptions,
} from "./lockstep-error.js";
export { computeRetryDelayMs } from "./retry-delay.js";
export { fetchWithTls, type ClientTls } from "./tls-fetch.js";
export type { WatchHandle, WatchOptions } from "./watch-stream.js";
export type {
  AddMemberRequest,
  ClusterStatus,
  CreateJoinTokenResponse,
  DeleteResponse,
  MachineList,
  MachineState,
  MemberInfo,
  MembershipChangeResponse,
  MembersResponse,
  TransitionResponse,
  WatchEvent,
} from "@lockstep/protocol";
