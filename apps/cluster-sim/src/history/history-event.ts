import { z } from "zod";

/**
 * One line of a client history (DESIGN.md §8). `time` is monotonic nanoseconds. `value` is the
 * target state of a transition invoke/ok, the state read for a read ok, and null otherwise.
 *
 * Extension of §8: a transition invoke may carry `expect` (the compare-and-set guard); a history
 * without it is still valid, and readers that do not know the field ignore it.
 */
export type HistoryEvent = {
  process: number;
  type: "invoke" | "ok" | "fail" | "info";
  f: "transition" | "read";
  key: string;
  value: string | null;
  time: number;
  expect?: string;
};

export const HistoryEventSchema = z.object({
  process: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  type: z.enum(["invoke", "ok", "fail", "info"]),
  f: z.enum(["transition", "read"]),
  key: z.string().min(1).max(1024),
  value: z.string().max(1024).nullable(),
  time: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  expect: z.string().max(1024).optional(),
});
