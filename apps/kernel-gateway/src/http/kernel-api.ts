// Kernel actions over HTTP: suspend checkpoints the notebook's idle kernel now and frees its
// memory, as the idle timeout would later (the next cell resumes it).
import type { ApiHandlers } from "./api-handlers";
import { HttpError } from "./http-errors";

export interface KernelApiDeps {
  suspendKernel(notebookId: string): Promise<{ ok: true } | { ok: false; error: string }>;
}

export function kernelApi(deps: KernelApiDeps | undefined): ApiHandlers<"suspendKernel"> {
  return {
    suspendKernel: async (req) => {
      if (!deps) throw new HttpError(404, "Not found");
      const result = await deps.suspendKernel(req.params.id);
      if (!result.ok) throw new HttpError(409, result.error);
      return { ok: true as const };
    },
  };
}
