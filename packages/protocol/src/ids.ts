import { z } from "zod";

/** Limits on identifiers, so that one bad peer or client cannot make us hold huge strings. */
export const identifierLengthMax = 64;
export const keyLengthMax = 128;
export const stateNameLengthMax = 64;

const identifierPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A node's id: stable across restarts, unique in its cluster. */
export const NodeIdSchema = z.string().min(1).max(identifierLengthMax).regex(identifierPattern);
export type NodeId = z.infer<typeof NodeIdSchema>;

/** A cluster's id: every peer connection checks it in `Hello`. */
export const ClusterIdSchema = z.string().min(1).max(identifierLengthMax).regex(identifierPattern);
export type ClusterId = z.infer<typeof ClusterIdSchema>;

/** A replicated machine's key, e.g. `web-1`. */
export const KeySchema = z.string().min(1).max(keyLengthMax).regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/);
export type Key = z.infer<typeof KeySchema>;

/** A state's name as a definition spells it, e.g. `Running`. */
export const StateNameSchema = z.string().min(1).max(stateNameLengthMax).regex(/^[A-Za-z][A-Za-z0-9_-]*$/);
export type StateName = z.infer<typeof StateNameSchema>;

/** Raft terms and log indexes are non-negative safe integers. */
export const TermSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const IndexSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
