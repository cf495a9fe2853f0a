/**
 * Reads a fetch response's body, or returns undefined (and stops reading) once it passes
 * `bytesMax`, so that a misbehaving or hostile server cannot make the client buffer without bound.
 */
export async function readBodyBytes(response: Response, bytesMax: number): Promise<Uint8Array | undefined> {
  if (response.body === null) return new Uint8Array();
  // Node types the body stream loosely; fetch bodies are always byte chunks.
  const reader = response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > bytesMax) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
