/** What a tick cork needs of a socket: `net.Socket` and `tls.TLSSocket` both have it. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Holds a socket's writes back until the current tick ends, so that every frame written in one
 * tick leaves in one write: over TLS one record to encrypt and decrypt and one syscall, instead
 * of one of each per frame (Node's TLS socket joins a corked batch into a single record of up to
 * 16 KiB). Both ends of `/v1/rpc` use it: a commit's answers finish in one tick, and a closed-loop
 * caller sends its next requests in the tick the answers arrived in.
 *
 * Returns `hold()`: call it before each write of a tick; the first call corks, and the socket is
 * uncorked on `process.nextTick`, before any I/O runs, so nothing waits for a later event. Cork
 * counts nest, so a library's own cork around one frame (`ws` corks a header and its payload)
 * still works inside.
 */
export function tickCork(socket: Corkable): () => void {
  let corked = false;
  const release = (): void => {
    corked = false;
    socket.uncork();
  };
  return (): void => {
    if (corked) return;
    corked = true;
    socket.cork();
    process.nextTick(release);
  };
}
