// SHA-256 (FIPS 180-4) in plain TypeScript. The state machine runs inside the deterministic core
// and the simulator, where `node:crypto` is off limits, yet the definition hash must match what
// every node computes, so we carry our own implementation and test it against node:crypto.

const roundConstants = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const initialHash = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const blockBytes = 64;

/** The SHA-256 digest (32 bytes) of `message`. */
export function sha256(message: Uint8Array): Uint8Array {
  const padded = pad(message);
  const hash = new Uint32Array(initialHash);
  const schedule = new Uint32Array(64);
  const view = new DataView(padded.buffer, padded.byteOffset, padded.byteLength);
  for (let offset = 0; offset < padded.length; offset += blockBytes) {
    compressBlock(hash, schedule, view, offset);
  }
  const digest = new Uint8Array(32);
  const digestView = new DataView(digest.buffer);
  for (let word = 0; word < 8; word++) digestView.setUint32(word * 4, hash[word]!, false);
  return digest;
}

/** The SHA-256 digest of `message` as 64 lowercase hex characters. */
export function sha256Hex(message: Uint8Array): string {
  let hex = "";
  for (const byte of sha256(message)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Appends the 0x80 marker, zeros, and the 64-bit big-endian bit length (FIPS 180-4 §5.1.1). */
function pad(message: Uint8Array): Uint8Array {
  const lengthBytes = message.length;
  const paddedBytes = Math.ceil((lengthBytes + 9) / blockBytes) * blockBytes;
  const padded = new Uint8Array(paddedBytes);
  padded.set(message);
  padded[lengthBytes] = 0x80;
  const view = new DataView(padded.buffer);
  // The bit length can exceed 32 bits; split it so that no bitwise operator truncates it.
  const lengthBits = lengthBytes * 8;
  view.setUint32(paddedBytes - 8, Math.floor(lengthBits / 0x1_0000_0000), false);
  view.setUint32(paddedBytes - 4, lengthBits >>> 0, false);
  return padded;
}

function rotateRight(value: number, bits: number): number {
  return (value >>> bits) | (value << (32 - bits));
}

function compressBlock(hash: Uint32Array, schedule: Uint32Array, view: DataView, offset: number): void {
  for (let t = 0; t < 16; t++) schedule[t] = view.getUint32(offset + t * 4, false);
  for (let t = 16; t < 64; t++) {
    const w15 = schedule[t - 15]!;
    const w2 = schedule[t - 2]!;
    const sigma0 = rotateRight(w15, 7) ^ rotateRight(w15, 18) ^ (w15 >>> 3);
    const sigma1 = rotateRight(w2, 17) ^ rotateRight(w2, 19) ^ (w2 >>> 10);
    schedule[t] = (schedule[t - 16]! + sigma0 + schedule[t - 7]! + sigma1) >>> 0;
  }
  let a = hash[0]!, b = hash[1]!, c = hash[2]!, d = hash[3]!;
  let e = hash[4]!, f = hash[5]!, g = hash[6]!, h = hash[7]!;
  for (let t = 0; t < 64; t++) {
    const sum1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25);
    const choose = (e & f) ^ (~e & g);
    const temp1 = (h + sum1 + choose + roundConstants[t]! + schedule[t]!) >>> 0;
    const sum0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22);
    const majority = (a & b) ^ (a & c) ^ (b & c);
    const temp2 = (sum0 + majority) >>> 0;
    h = g;
    g = f;
    f = e;
    e = (d + temp1) >>> 0;
    d = c;
    c = b;
    b = a;
    a = (temp1 + temp2) >>> 0;
  }
  hash[0] = hash[0]! + a;
  hash[1] = hash[1]! + b;
  hash[2] = hash[2]! + c;
  hash[3] = hash[3]! + d;
  hash[4] = hash[4]! + e;
  hash[5] = hash[5]! + f;
  hash[6] = hash[6]! + g;
  hash[7] = hash[7]! + h;
}
