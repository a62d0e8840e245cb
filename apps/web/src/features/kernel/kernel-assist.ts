// Completion and inspection for the cell editor, asked of the kernel: turns the editor's offsets
// (UTF-16 units) into Jupyter's cursor positions (unicode code points) and the kernel's replies
// into what the editor shows.
import type { EditorAssist, EditorCompletions, EditorHint } from "@cellar/ui";
import type { KernelRequests, RequestOutcome } from "./kernel-requests";

interface CompleteReply {
  matches: string[];
  cursor_start: number;
  cursor_end: number;
  metadata?: { _jupyter_types_experimental?: Array<{ text: string; type?: string; start?: number; end?: number }> };
}

interface InspectReply {
  found: boolean;
  data?: Record<string, unknown>;
}

/** Jupyter counts cursor positions in code points; JavaScript strings count UTF-16 units. */
export function toCodePoints(text: string, offset: number): number {
  return Array.from(text.slice(0, offset)).length;
}

export function fromCodePoints(text: string, codePoints: number): number {
  let offset = 0;
  let seen = 0;
  for (const ch of text) {
    if (seen >= codePoints) break;
    offset += ch.length;
    seen += 1;
  }
  return offset;
}

export function kernelAssist(requests: Pick<KernelRequests, "request">): EditorAssist {
  return {
    async complete(code, offset) {
      const outcome = await requests.request<CompleteReply>("complete_request", { code, cursor_pos: toCodePoints(code, offset) });
      if (!outcome.ok) return hint(outcome);
      return completionsFrom(code, outcome.content);
    },
    async inspect(code, offset) {
      const outcome = await requests.request<InspectReply>("inspect_request", {
        code,
        cursor_pos: toCodePoints(code, offset),
        detail_level: 0,
      });
      if (!outcome.ok) return hint(outcome);
      const text = outcome.content.found ? outcome.content.data?.["text/plain"] : undefined;
      return typeof text === "string" && text ? { text } : null;
    },
  };
}

export function completionsFrom(code: string, reply: CompleteReply): EditorCompletions | null {
  const matches = Array.isArray(reply.matches) ? reply.matches.filter((m) => typeof m === "string") : [];
  if (!matches.length) return null;
  const types = new Map<string, string>();
  for (const t of reply.metadata?._jupyter_types_experimental ?? []) if (t.type && t.type !== "<unknown>") types.set(t.text, t.type);
  return {
    from: fromCodePoints(code, reply.cursor_start),
    to: fromCodePoints(code, reply.cursor_end),
    items: matches.map((label) => ({ label, type: types.get(label) })),
  };
}

function hint(outcome: Extract<RequestOutcome<unknown>, { ok: false }>): EditorHint {
  return { message: outcome.message };
}
