"use client";
import { formatDevice } from "@cellar/protocol";
import { useNotebookContext, useNotebookState } from "../notebook/notebook-context";
import { useMay } from "../notebook/page-roles";
import { DevicePicker } from "./DevicePicker";

/** The toolbar's default device for cells that name none. It is in the shared document, so
 * everyone with the notebook open sees it change; below an editor it is only shown. */
export function NotebookDevicePicker() {
  const { store } = useNotebookContext();
  const device = useNotebookState((s) => s.notebookDevice);
  const mayEdit = useMay("edit");
  if (!mayEdit) {
    if (!device) return null;
    return (
      <span className="notebook-device" data-testid="notebook-device-readonly" title="Cells that name no device run on this">
        Default device: {formatDevice(device)}
      </span>
    );
  }
  return (
    <span className="notebook-device" title="Where cells that name no device run">
      <span className="notebook-device-label">Device</span>
      <DevicePicker
        value={device}
        onChange={(next) => store.getState().setNotebookDevice(next)}
        defaultLabel="CPU"
        offerCpu={false}
        testId="notebook-device"
        label="Default device of the notebook"
      />
    </span>
  );
}
