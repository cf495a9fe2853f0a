import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { generateAuthKeyPair } from "@lockstep/transport-tcp";

const usage = `Usage: lockstep keygen --out FILE

Writes a new Ed25519 private key (PEM, mode 600) to FILE for peer message authentication and
prints its public key. Put the file's path in the node's authPrivateKeyFile, and the public key in
that member's publicKey on every node's members list.
`;

/** `lockstep keygen --out FILE`: 0 written, 1 the file could not be written (or exists), 2 usage. */
export function runKeygenCommand(argv: readonly string[], output: { stdout: (text: string) => void; stderr: (text: string) => void }): number {
  let out: string | undefined;
  try {
    const parsed = parseArgs({ args: [...argv], options: { out: { type: "string" }, help: { type: "boolean" } } });
    if (parsed.values.help === true) {
      output.stdout(usage);
      return 0;
    }
    out = parsed.values.out;
  } catch (error) {
    output.stderr(`lockstep keygen: ${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  if (out === undefined) {
    output.stderr(`lockstep keygen: --out FILE is required\n${usage}`);
    return 2;
  }
  const { privateKeyPem, publicKey } = generateAuthKeyPair();
  try {
    // "wx": never overwrite a key that may already be in use.
    writeFileSync(out, privateKeyPem, { mode: 0o600, flag: "wx" });
  } catch (error) {
    output.stderr(`lockstep keygen: cannot write ${out}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  output.stdout(`private key written to ${out}\npublicKey: ${publicKey}\n`);
  return 0;
}
