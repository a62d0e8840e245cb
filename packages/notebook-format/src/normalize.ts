// Two notebooks are the same notebook when they differ only in how multiline text is written
// (one string or a list of lines) — nbformat treats both the same. Used by round-trip checks.
import type { IpynbNotebook } from "./ipynb";
import { joinBundle, joinLines } from "./multiline";

export function normalizeIpynb(nb: IpynbNotebook): IpynbNotebook {
  return {
    ...nb,
    cells: nb.cells.map((cell) => {
      const source = joinLines(cell.source);
      if (cell.cell_type !== "code") {
        return {
          ...cell,
          source,
          ...(cell.attachments
            ? { attachments: Object.fromEntries(Object.entries(cell.attachments).map(([k, v]) => [k, joinBundle(v)])) }
            : {}),
        };
      }
      return {
        ...cell,
        source,
        outputs: cell.outputs.map((o) =>
          o.output_type === "stream"
            ? { ...o, text: joinLines(o.text) }
            : o.output_type === "error"
              ? o
              : { ...o, data: joinBundle(o.data) },
        ),
      };
    }),
  };
}
