// A run's outputs against an earlier run's, cell by cell: what the Runs panel shows to answer
// "what changed since it last worked". Outputs are compared as the text a reader would see
// (streams, text/plain, errors; an image or HTML output by its MIME type and size), since the
// copies of two runs never share bytes of a plot's PNG anyway.
import { stripVTControlCharacters } from "node:util";
import { INJECTED_TAG } from "@cellar/notebook-format";
import type { Cell, Output, RunDiffReply } from "@cellar/protocol";

type DiffCell = RunDiffReply["cells"][number];

/** `before` null: there is no earlier run, so every cell is "added". Cells are matched by id (an
 * executed copy keeps its notebook's cell ids), and each run's injected-parameters cell (a new
 * id every run) with the other's. Markdown and raw cells have no outputs and are left out. */
export function outputsDiff(before: Cell[] | null, after: Cell[]): DiffCell[] {
  const earlier = new Map((before ?? []).filter(isCode).map((c) => [keyOf(c), c]));
  const cells: DiffCell[] = [];
  after.forEach((cell, index) => {
    if (!isCode(cell)) return;
    const then = earlier.get(keyOf(cell));
    earlier.delete(keyOf(cell));
    const now = outputsText(cell.outputs);
    const was = then ? outputsText(then.outputs) : "";
    cells.push({
      cellId: cell.id,
      index,
      source: cell.source,
      change: !then ? "added" : was === now ? "same" : "changed",
      before: was,
      after: now,
    });
  });
  for (const cell of earlier.values())
    cells.push({ cellId: cell.id, index: -1, source: cell.source, change: "removed", before: outputsText(cell.outputs), after: "" });
  return cells;
}

const isCode = (cell: Cell) => cell.cell_type === "code";

const keyOf = (cell: Cell) => (((cell.metadata.tags as unknown[] | undefined) ?? []).includes(INJECTED_TAG) ? `#${INJECTED_TAG}` : cell.id);

export function outputsText(outputs: Output[]): string {
  return outputs.map(outputText).join("");
}

function outputText(output: Output): string {
  switch (output.output_type) {
    case "stream":
      return output.text;
    case "error":
      return `${stripVTControlCharacters(output.traceback.join("\n")) || `${output.ename}: ${output.evalue}`}\n`;
    default: {
      const plain = output.data["text/plain"];
      const text = Array.isArray(plain) ? plain.join("") : typeof plain === "string" ? plain : "";
      const rich = Object.entries(output.data)
        .filter(([type]) => type !== "text/plain")
        .map(([type, value]) => `[${type}, ${JSON.stringify(value).length} bytes]`);
      return `${[text, ...rich].filter(Boolean).join("\n")}\n`;
    }
  }
}
