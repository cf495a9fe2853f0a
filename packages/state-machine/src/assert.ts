/**
 * Programmer errors crash (STYLE.md §7): a broken invariant in replicated state must stop the
 * replica before it diverges from the others, not be reported as a value.
 */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`state-machine invariant violated: ${message}`);
}
