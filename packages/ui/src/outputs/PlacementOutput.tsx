import { memo } from "react";
import { PLACEMENT_MIME, type Output, placementSchema, placementText } from "@cellar/protocol";
import { bundleText } from "./mime";

/** The gateway's note of where a cell ran (a display_data under PLACEMENT_MIME). */
export function isPlacementOutput(output: Output): boolean {
  return (output.output_type === "display_data" || output.output_type === "execute_result") && output.data[PLACEMENT_MIME] !== undefined;
}

/** Where the cell ran, as one quiet line ("ran on H100 · worker gpu-1 · moved 14 names, 2.1 GB in
 * 1.8 s"), and, when some names could not move with the kernel, a warning naming each with its
 * type and why: they are not defined where the cell ran. One that does not read shows its text. */
export const PlacementOutput = memo(function PlacementOutput({ data }: { data: Record<string, unknown> }) {
  const parsed = placementSchema.safeParse(data[PLACEMENT_MIME]);
  if (!parsed.success) {
    return (
      <div className="cellar-placement" data-testid="cell-placement">
        {bundleText(data["text/plain"] ?? "")}
      </div>
    );
  }
  const placement = parsed.data;
  const skipped = placement.skipped;
  return (
    <div className="cellar-placement-block">
      <div
        className="cellar-placement"
        data-testid="cell-placement"
        data-device={placement.device}
        data-worker={placement.workerId}
        data-isolation={placement.isolation}
      >
        {placementText(placement)}
      </div>
      {skipped.length > 0 && (
        <div className="cellar-placement-skipped" data-testid="cell-placement-skipped" role="alert">
          <span aria-hidden="true">⚠</span> {skipped.length} {skipped.length === 1 ? "name" : "names"} could not move to {placement.device}{" "}
          and {skipped.length === 1 ? "is" : "are"} not defined there:
          <ul>
            {skipped.map((s) => (
              <li key={s.name} data-testid="cell-placement-skipped-name" data-name={s.name}>
                <code>{s.name}</code> <span className="cellar-placement-type">({s.type})</span>: {s.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
});
