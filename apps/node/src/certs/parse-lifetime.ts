/** `365d`, `8760h`, `90m`: a certificate lifetime with its unit, in days (fractions allowed). */
export type LifetimeResult = { ok: true; days: number } | { ok: false; message: string };

const unitDays = { d: 1, h: 1 / 24, m: 1 / 1440 } as const;
const lifetimePattern = /^([0-9]+(?:\.[0-9]+)?)([dhm])$/;

/** Never throws: a value without a unit is an error, because "365" could mean days or hours. */
export function parseLifetime(text: string): LifetimeResult {
  const match = lifetimePattern.exec(text.trim());
  if (match === null) return { ok: false, message: `"${text}" is not a lifetime; give a number and a unit: 365d, 8760h or 90m` };
  const days = Number(match[1]) * unitDays[match[2] as keyof typeof unitDays];
  if (!(days > 0)) return { ok: false, message: `lifetime must be more than zero, got "${text}"` };
  return { ok: true, days };
}
