import { emptyCellOutput, type CellOutputState } from "@cellar/protocol";

/** The outputs with those cells' emptied (new cells, or cells whose outputs no longer apply). */
export function withEmptyOutputs(outputs: Record<string, CellOutputState>, cellIds: Iterable<string>): Record<string, CellOutputState> {
  const next = { ...outputs };
  for (const id of cellIds) next[id] = emptyCellOutput();
  return next;
}
