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
export type {
  ClientSession,
  Command,
  JoinTokenCreateCommand,
  JoinTokenRevokeCommand,
  JoinTokenUseCommand,
  MembersCommand,
  NoopCommand,
  TransitionCommand,
} from "./command.js";
export { JoinTokenTable, joinTokensMax, type JoinTokenRecord } from "./join-token-table.js";
export type {
  ApplyResult,
  ExpectFailedResult,
  InvalidTransitionResult,
  JoinTokenOkResult,
  JoinTokenRefusedResult,
  JoinTokenResult,
  MembersResult,
  NoopResult,
  SessionExpiredResult,
  TransitionOkResult,
  TransitionResult,
} from "./apply-result.js";
export {
  defaultSessionsMax,
  defaultSessionWindowSeqs,
  Store,
  type MachineEntry,
  type MachineRecord,
  type RestoreResult,
  type StoreOptions,
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
