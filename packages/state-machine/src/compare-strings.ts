/**
 * Orders strings by UTF-16 code units. Replicas must sort identically whatever their locale, so
 * `localeCompare` (which depends on the host's ICU data) is never used for replicated output.
 */
export function compareStrings(left: string, right: string): number {
  if (left < right) return -1;
  return left > right ? 1 : 0;
}
