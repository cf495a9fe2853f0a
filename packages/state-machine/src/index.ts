export {
  allowedTargets,
  definitionNameLengthMax,
  definitionStateNameLengthMax,
  definitionStatesMax,
  definitionTransitionsMax,
  lifecycleDefinition,
  parseDefinition,
  type Definition,
  type ParseDefinitionResult,
} from "./definition.js";
export { canonicalDefinitionJson, definitionHash } from "./definition-hash.js";
export { sha256, sha256Hex } from "./sha256.js";
export { crc32, crc32Hex } from "./crc32.js";
export { commandFingerprint, sameWriteCommand } from "./command-fingerprint.js";
export type {
  ClientSession,
  Command,
  DeleteCommand,
  JoinTokenCreateCommand,
  JoinTokenRevokeCommand,
  JoinTokenUseCommand,
  LimitsCommand,
  MembersCommand,
  NoopCommand,
  RegisterSessionCommand,
  StoreLimitsValue,
  TransitionCommand,
  WriteCommand,
} from "./command.js";
export { JoinTokenTable, joinTokensMax, type JoinTokenRecord } from "./join-token-table.js";
export type {
  ApplyResult,
  DeleteOkResult,
  DeleteResult,
  ExpectFailedResult,
  InvalidTransitionResult,
  JoinTokenOkResult,
  JoinTokenRefusedResult,
  JoinTokenResult,
  LimitsResult,
  MembersResult,
  NoopResult,
  QuotaExceededResult,
  RegisterSessionResult,
  RequestIdReusedResult,
  SessionExpiredResult,
  SessionRefusal,
  TransitionOkResult,
  TransitionResult,
  WriteResult,
} from "./apply-result.js";
export { defaultStoreLimits, keyBytes, keyOverheadBytes, sameStoreLimits, storeLimitsProblem, type StoreLimits } from "./store-limits.js";
export {
  defaultSessionsMax,
  defaultSessionWindowSeqs,
  Store,
  type MachineEntry,
  type MachineRecord,
  type RestoreResult,
  type StoreOptions,
  type StoreUsage,
} from "./store.js";
export type { RestoreFailure } from "./snapshot.js";
export {
  tokensMax,
  type TokenCreateCommand,
  type TokenCreatedResult,
  type TokenRecord,
  type TokenRejectedResult,
  type TokenResult,
  type TokenRevokeCommand,
  type TokenRevokedResult,
  type TokenRole,
} from "./token-table.js";
