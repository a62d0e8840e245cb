"use client";
import { formatDevice } from "@cellar/protocol";
import { useNotebookContext, useNotebookState } from "../notebook/notebook-context";
import { useMay } from "../notebook/page-roles";
import { cellDevice, deviceBadge, queuedText, type CellDevice } from "./cell-device";
import { DevicePicker } from "./DevicePicker";

function useCellDevice(cellId: string) {
  const notebookDevice = useNotebookState((s) => s.notebookDevice);
  const source = useNotebookState((s) => s.cells.find((c) => c.id === cellId)?.source);
  const metadata = useNotebookState((s) => s.cells.find((c) => c.id === cellId)?.metadata);
  return { cell: source === undefined || !metadata ? null : cellDevice(source, metadata, notebookDevice), notebookDevice };
}

const FROM: Record<CellDevice["from"], string> = {
  magic: "from the %%gpu line",
  cell: "chosen for this cell",
  notebook: "the notebook's default",
  none: "",
};

/** In the gutter: the device a cell runs on when it is not plain CPU, for everyone to see. */
export function CellDeviceBadge({ cellId }: { cellId: string }) {
  const { cell, notebookDevice } = useCellDevice(cellId);
  if (!cell) return null;
  const badge = deviceBadge(cell, notebookDevice);
  if (!badge) return null;
  const title = cell.error ?? `Runs on ${formatDevice(cell.device)} (${FROM[cell.from]})`;
  return (
    <span
      className={`cell-device-badge cell-device-${cell.device.kind}${cell.error ? " cell-device-invalid" : ""}`}
      data-testid="cell-device-badge"
      data-device={formatDevice(cell.device)}
      data-from={cell.from}
      title={title}
    >
      {badge}
    </span>
  );
}

/** The cell's own device choice (editors and up: it is part of the document). A `%%gpu` line
 * decides instead, so the picker then only says so. */
export function CellDevicePicker({ cellId }: { cellId: string }) {
  const { store } = useNotebookContext();
  const mayEdit = useMay("edit");
  const { cell, notebookDevice } = useCellDevice(cellId);
  if (!mayEdit || !cell) return null;
  const byMagic = cell.from === "magic";
  return (
    <DevicePicker
      value={byMagic ? cell.device : cell.from === "cell" ? cell.device : undefined}
      onChange={(device) => store.getState().setCellDevice(cellId, device)}
      defaultLabel={`Notebook default (${notebookDevice ? formatDevice(notebookDevice) : "CPU"})`}
      offerCpu
      testId="cell-device"
      label="Device this cell runs on"
      disabled={byMagic}
      title={byMagic ? "Set by the cell's %%gpu line" : "Where this cell runs"}
    />
  );
}

/** Under a cell waiting for a busy device: its place in line and Cancel (whoever may run it). */
export function CellQueuedLine({ cellId }: { cellId: string }) {
  const { kernel } = useNotebookContext();
  const waiting = useNotebookState((s) => (s.running[cellId] ? s.deviceQueue[cellId] : undefined));
  const mayCancel = useMay("cancelQueued");
  if (!waiting) return null;
  return (
    <div className="cell-queued-line" data-testid="cell-queued-wait" data-position={waiting.position} role="status">
      <span data-testid="cell-queued-text">{queuedText(waiting.device, waiting.position)}</span>
      {mayCancel && kernel && (
        <button
          type="button"
          className="button button-small"
          data-testid="cell-queued-cancel"
          onClick={() => void kernel.cancelQueued(cellId)}
        >
          Cancel
        </button>
      )}
    </div>
  );
}
