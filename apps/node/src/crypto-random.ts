import { randomInt } from "node:crypto";
import type { RandomSource } from "@lockstep/consensus";

// randomInt accepts a range of at most 2^48 - 1 values.
const resolution = 2 ** 48 - 1;

/** Uniform in [0, 1) from the operating system's generator: a real node has no seed to replay. */
export const cryptoRandom: RandomSource = () => randomInt(resolution) / resolution;
