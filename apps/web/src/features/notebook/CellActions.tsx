"use client";
import { useNotebookContext } from "./notebook-context";
import { DownIcon, TrashIcon, UpIcon } from "../../shared/icons";
import { CellDevicePicker } from "../devices/CellDevice";

export function CellActions({ cellId, index, count, isCode }: { cellId: string; index: number; count: number; isCode: boolean }) {
  const { store } = useNotebookContext();
  return (
    <div className="cell-actions" aria-label="Cell actions">
      {isCode && <CellDevicePicker cellId={cellId} />}
      <button
        type="button"
        className="icon-button"
        data-testid="move-cell-up"
        title="Move up"
        aria-label="Move cell up"
        disabled={index === 0}
        onClick={() => store.getState().moveCell(cellId, -1)}
      >
        <UpIcon />
      </button>
      <button
        type="button"
        className="icon-button"
        data-testid="move-cell-down"
        title="Move down"
        aria-label="Move cell down"
        disabled={index === count - 1}
        onClick={() => store.getState().moveCell(cellId, 1)}
      >
        <DownIcon />
      </button>
      <button
        type="button"
        className="icon-button icon-button-danger"
        data-testid="delete-cell"
        title="Delete cell"
        aria-label="Delete cell"
        onClick={() => store.getState().deleteCell(cellId)}
      >
        <TrashIcon />
      </button>
    </div>
  );
}
