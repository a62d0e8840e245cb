// Suspend and resume of a kernel holding 1 GiB of numpy arrays, through the worker's own path:
// KernelSession.suspend (runsc checkpoint, then the checkpoint ingested into a CAS served over
// HTTP the way the gateway serves it) and the resume that the next request triggers, first from
// the worker's local copy, then on a second "worker" whose disk never had it (from the CAS).
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { BlobFetcher, createBlobHandler, LocalDirStore } from "@cellar/fs-client";
import type { JupyterMessage, SuspendedKernelRef } from "@cellar/protocol";
import { KernelSession } from "../apps/worker/src/kernel/kernel-session";
import { SuspendedKernels, type SuspendTimings } from "../apps/worker/src/kernel/suspended-kernels";
import { startKernelSandbox, type SandboxLimits } from "../apps/worker/src/sandbox";
import { awaitFirstOutput } from "./first-output";

export interface SuspendResumeFigures {
  suspend_s: number;
  resume_s: number;
  resume_from_cas_s: number;
  checkpoint_bytes: number;
  suspend_breakdown_ms: SuspendTimings;
  resume_breakdown_ms: SuspendTimings;
  resume_from_cas_breakdown_ms: SuspendTimings;
}

const TOKEN = "Bearer bench-suspend";
const STREAM_OR_ERROR: ReadonlySet<string> = new Set(["stream", "error"]);
const seconds = (ms: number) => Math.round(ms / 10) / 100;

export async function suspendResume1GiB(opts: {
  work: string;
  imageRootfs: string;
  stateRoot: string;
  limits: SandboxLimits;
}): Promise<SuspendResumeFigures> {
  const authorize = (req: { headers: { authorization?: string } }) => req.headers.authorization === TOKEN;
  const handle = createBlobHandler(new LocalDirStore(path.join(opts.work, "suspend-cas")), { authorize, authorizeWrite: authorize });
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const cas = new BlobFetcher({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, authorization: TOKEN });
  const sessionId = randomUUID();
  const sandboxOptions = async () => ({
    sessionId,
    imageRootfs: opts.imageRootfs,
    workspaceDir: path.join(opts.work, "ws", sessionId),
    stateRoot: opts.stateRoot,
    limits: opts.limits,
  });
  const worker = (name: string, timings: SuspendTimings) => {
    const listeners = new Set<(m: JupyterMessage) => void>();
    const kernels = new SuspendedKernels({ dir: path.join(opts.work, name), remote: cas, log: () => {} });
    // What the gateway would keep: the ref reported with the status "suspended".
    const held: { ref: SuspendedKernelRef | null } = { ref: null };
    const session = new KernelSession(
      sessionId,
      {
        onMessage: (m) => {
          for (const l of listeners) l(m);
        },
        onStatus: (_s, _r, ref) => {
          if (ref) held.ref = ref;
        },
      },
      { suspender: kernels.for(sessionId, sandboxOptions, timings) },
    );
    const link = { send: (m: JupyterMessage) => session.send(m), on: (_: "message", l: (m: JupyterMessage) => void) => listeners.add(l) };
    /** Sends a cell; resolves with its first output, and `idle` once the run is over. */
    const firstOutput = async (code: string) => {
      const first = await awaitFirstOutput(link, code, { timeoutMs: 600_000, types: STREAM_OR_ERROR });
      return { text: String(first.output.content.text ?? first.output.content.evalue), ms: first.ms, idle: first.done };
    };
    return { session, firstOutput, kernels, held };
  };
  try {
    const suspendTimings: SuspendTimings = {};
    const a = worker("worker-a", suspendTimings);
    await a.session.start(async () => startKernelSandbox({ ...(await sandboxOptions()), startTimeoutMs: 120_000 }));
    const filled = await a.firstOutput("import numpy as np\nheld = np.random.rand(128 * 1024 * 1024)\nprint(held.nbytes)");
    await filled.idle;

    const t0 = performance.now();
    if (!(await a.session.suspend())) throw new Error("the kernel did not suspend");
    const suspendMs = performance.now() - t0;
    // The upload to the CAS runs after the kernel is reported suspended; measured apart. Until
    // it ends a hard-linked copy of the checkpoint sits next to it, which dirBytes would count.
    await a.kernels.settle();
    const checkpointBytes = dirBytes(path.join(opts.work, "worker-a"));
    const suspendBreakdown = { ...suspendTimings };

    const resumed = await a.firstOutput("print(held.nbytes)");
    if (resumed.text.trim() !== String(2 ** 30)) throw new Error(`the resumed kernel lost its array: ${resumed.text}`);
    await resumed.idle;
    const resumeBreakdown = { fetchMs: suspendTimings.fetchMs, restoreMs: suspendTimings.restoreMs };

    // Suspend again, then "move" it: this worker forgets it and its disk is wiped; another
    // worker with an empty disk resumes it from the CAS.
    if (!(await a.session.suspend())) throw new Error("the kernel did not suspend a second time");
    await a.kernels.settle();
    const ref = a.held.ref!;
    a.session.release();
    fs.rmSync(path.join(opts.work, "worker-a"), { recursive: true, force: true });
    const casTimings: SuspendTimings = {};
    const b = worker("worker-b", casTimings);
    b.session.adoptSuspended(ref);
    const moved = await b.firstOutput("print(held.nbytes)");
    if (moved.text.trim() !== String(2 ** 30)) throw new Error(`the kernel resumed from the CAS lost its array: ${moved.text}`);
    await moved.idle;
    await b.session.stop();
    return {
      suspend_s: seconds(suspendMs),
      resume_s: seconds(resumed.ms),
      resume_from_cas_s: seconds(moved.ms),
      checkpoint_bytes: checkpointBytes,
      suspend_breakdown_ms: suspendBreakdown,
      resume_breakdown_ms: resumeBreakdown,
      resume_from_cas_breakdown_ms: casTimings,
    };
  } finally {
    cas.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return n;
}
