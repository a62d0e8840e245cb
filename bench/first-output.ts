// "First output" as the benches time it: a cell sent over a kernel link (a sandbox, a session)
// and the moment its first output arrives. When the run is over is @cellar/kernel-client's
// KernelFuture's to say.
import { futuresFor, type MessageLink } from "@cellar/kernel-client";
import { executeRequest, type JupyterMessage } from "@cellar/protocol";

export interface FirstOutput {
  /** The first output message. */
  output: JupyterMessage;
  /** Milliseconds from sending the cell. */
  ms: number;
  /** The rest of the run: resolves once its reply and idle status are both in. */
  done: Promise<unknown>;
}

const ANY_OUTPUT: ReadonlySet<string> = new Set(["stream", "execute_result", "error"]);

/** Sends `code`; resolves at its first message of one of `types`; rejects if none comes before
 * the run ends, the link ends, or `timeoutMs` passes. */
export function awaitFirstOutput(
  link: MessageLink,
  code: string,
  opts: { timeoutMs?: number; types?: ReadonlySet<string> } = {},
): Promise<FirstOutput> {
  const t0 = performance.now();
  const types = opts.types ?? ANY_OUTPUT;
  return new Promise((resolve, reject) => {
    const run = futuresFor(link).request(executeRequest(code), {
      timeoutMs: opts.timeoutMs,
      onIOPub: (m) => {
        if (types.has(m.header.msg_type)) resolve({ output: m, ms: performance.now() - t0, done: run.done });
      },
    });
    run.done.then(
      () => reject(new Error(`${code} ended without output`)),
      (error: Error) => reject(new Error(`no output of ${code}: ${error.message}`)),
    );
  });
}
