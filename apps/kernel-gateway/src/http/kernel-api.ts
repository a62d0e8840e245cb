// Kernel actions over HTTP: `POST /api/notebooks/:id/kernel/suspend` checkpoints the notebook's
// idle kernel now and frees its memory, as the idle timeout would later (the next cell resumes it).
import type { IncomingMessage, ServerResponse } from "node:http";
import { validateNotebookId } from "@cellar/protocol";
import { HttpError, sendJson } from "./notebooks-api";

export interface KernelApiDeps {
  suspendKernel(notebookId: string): Promise<{ ok: true } | { ok: false; error: string }>;
}

export async function handleKernelApi(req: IncomingMessage, res: ServerResponse, deps: KernelApiDeps): Promise<boolean> {
  const parts = new URL(req.url ?? "/", "http://x").pathname.split("/").filter(Boolean);
  // ["api", "notebooks", id, "kernel", action]
  if (parts.length !== 5 || parts[0] !== "api" || parts[1] !== "notebooks" || parts[3] !== "kernel") return false;
  if (parts[4] !== "suspend") throw new HttpError(404, `No kernel action named ${parts[4]}`);
  if (req.method !== "POST") throw new HttpError(405, "Use POST");
  const id = validateNotebookId(parts[2]);
  if (!id.ok) throw new HttpError(400, `Bad notebook id: ${id.error}`);
  const result = await deps.suspendKernel(id.value);
  if (!result.ok) throw new HttpError(409, result.error);
  return sendJson(res, 200, { ok: true });
}
