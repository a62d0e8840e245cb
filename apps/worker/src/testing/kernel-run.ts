// For the worker's integration tests: sends a request to a kernel (a sandbox, or a session) and
// collects everything it caused until it is over, which @cellar/kernel-client's KernelFuture
// decides (its reply and its idle status both in).
import { futuresFor, type MessageLink } from "@cellar/kernel-client";
import { executeRequest, hasMsgType, type JupyterMessage } from "@cellar/protocol";

export interface Run {
  /** Everything parented to the request, in arrival order, the reply included. */
  messages: JupyterMessage[];
  /** Milliseconds after the request was sent, per message. */
  at: number[];
  reply: JupyterMessage;
  of: <T extends string>(type: T) => JupyterMessage<T>[];
  /** The stream text. */
  stdout: () => string;
  /** The stream text with each error as "Name: value", in order. */
  text: () => string;
  /** Milliseconds to the first stream output; -1 if there was none. */
  firstOutputMs: number;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Sees each message as it arrives (to interrupt, or answer input()). */
  onMessage?: (msg: JupyterMessage) => void;
}

export async function request(link: MessageLink, msg: JupyterMessage, opts: RunOptions = {}): Promise<Run> {
  const messages: JupyterMessage[] = [];
  const at: number[] = [];
  const started = performance.now();
  const take = (m: JupyterMessage) => {
    messages.push(m);
    at.push(performance.now() - started);
    opts.onMessage?.(m);
  };
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const future = futuresFor(link).request(msg, { timeoutMs, onIOPub: take, onStdin: take, onReply: take });
  let reply: JupyterMessage;
  try {
    reply = await future.done;
  } catch (error) {
    throw new Error(`${(error as Error).message} for ${msg.header.msg_type}; got ${messages.map((m) => m.header.msg_type).join(", ")}`);
  }
  const of = <T extends string>(type: T) => messages.filter((m): m is JupyterMessage<T> => hasMsgType(m, type));
  const stream = of("stream");
  return {
    messages,
    at,
    reply,
    of,
    stdout: () => stream.map((s) => String(s.content.text)).join(""),
    text: () =>
      messages
        .map((m) =>
          m.header.msg_type === "stream"
            ? String(m.content.text)
            : m.header.msg_type === "error"
              ? `${String(m.content.ename)}: ${String(m.content.evalue)}`
              : "",
        )
        .join(""),
    firstOutputMs: stream.length ? at[messages.indexOf(stream[0]!)]! : -1,
  };
}

export const execute = (link: MessageLink, code: string, opts?: RunOptions) => request(link, executeRequest(code), opts);
