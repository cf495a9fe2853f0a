import { decodeRpcAnswerFrame, type RpcAnswerFrame } from "@lockstep/protocol";
import { WebSocket } from "ws";

/** Waits for the test's answers on a `/v1/rpc` socket; matched by id (null: an unmatched error). */
export interface RpcTestSocket {
  readonly webSocket: WebSocket;
  /** Every answer received so far, in arrival order. */
  readonly answers: RpcAnswerFrame[];
  /** Sends one frame (an object, or raw text as it is). */
  send(frame: object | string): void;
  /** Sends a request and resolves with its answer. */
  call(id: number, method: string, path: string, body?: unknown): Promise<RpcAnswerFrame>;
  /** Resolves once `count` answers have arrived in total. */
  waitForAnswers(count: number): Promise<RpcAnswerFrame[]>;
  close(): Promise<void>;
}

/** How long a test waits for an answer before it fails. */
const answerWaitMs = 5_000;

/** Opens `/v1/rpc` on a test API (`ws://...`), with these upgrade headers; rejects with the refusal's status. */
export function openRpcTestSocket(webSocketUrl: string, headers: Record<string, string> = {}): Promise<RpcTestSocket> {
  return new Promise((resolve, reject) => {
    const webSocket = new WebSocket(`${webSocketUrl}/v1/rpc`, { headers });
    const answers: RpcAnswerFrame[] = [];
    const waiters: (() => void)[] = [];
    webSocket.on("message", (data: Buffer) => {
      const decoded = decodeRpcAnswerFrame(data.toString("utf8"));
      if (!decoded.ok) throw new Error(`the node sent an unreadable answer: ${decoded.reason}`);
      answers.push(decoded.frame);
      for (const waiter of waiters.splice(0)) waiter();
    });
    webSocket.once("unexpected-response", (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
    webSocket.once("error", reject);
    const until = <T>(ready: () => T | undefined): Promise<T> =>
      new Promise((resolveWait, rejectWait) => {
        const timer = setTimeout(() => rejectWait(new Error(`no answer within ${answerWaitMs} ms; got ${JSON.stringify(answers)}`)), answerWaitMs);
        const check = (): void => {
          const value = ready();
          if (value !== undefined) {
            clearTimeout(timer);
            resolveWait(value);
          } else waiters.push(check);
        };
        check();
      });
    const socket: RpcTestSocket = {
      webSocket,
      answers,
      send: (frame) => webSocket.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
      call: (id, method, path, body) => {
        socket.send({ id, method, path, ...(body === undefined ? {} : { body }) });
        return until(() => answers.find((answer) => answer.id === id));
      },
      waitForAnswers: (count) => until(() => (answers.length >= count ? answers.slice() : undefined)),
      close: () =>
        new Promise((resolveClose) => {
          if (webSocket.readyState === WebSocket.CLOSED) return resolveClose();
          webSocket.once("close", () => resolveClose());
          webSocket.close();
        }),
    };
    webSocket.once("open", () => resolve(socket));
  });
}
