"use client";
import { useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { DndContext, KeyboardSensor, PointerSensor, closestCenter, useSensor, useSensors, type DragEndEvent } from "@dnd-kit/core";
import { SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { useNotebookContext, useNotebookState } from "./notebook-context";
import { AddCellBar } from "./AddCellBar";
import { CellView } from "./CellView";
import { VirtualCells } from "./VirtualCells";

/** Re-renders only when cells are added, removed or reordered; each cell reads its own state.
 * Cells are dragged by their handle (dnd-kit), or moved with the keyboard from the handle. Only
 * the cells near the viewport are rendered (VirtualCells); `?virtual=0` renders every cell, which
 * the editor benchmark compares against. */
export function CellList() {
  const { store } = useNotebookContext();
  const ids = useNotebookState(useShallow((s) => s.cells.map((c) => c.id)));
  const mode = useNotebookState((s) => s.mode);
  const [virtual] = useState(virtualListWanted);
  const [dragging, setDragging] = useState<string | null>(null);
  const sensors = useSensors(
    // A few pixels of movement before a drag starts, so a click on the handle stays a click.
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const onDragEnd = ({ active, over }: DragEndEvent) => {
    setDragging(null);
    if (!over || active.id === over.id) return;
    const s = store.getState();
    s.moveCellTo(
      String(active.id),
      s.cells.findIndex((c) => c.id === over.id),
    );
    s.selectCell(String(active.id));
  };
  return (
    <div className="cell-list" data-testid="cell-list" data-mode={mode} data-virtual={virtual ? "true" : "false"}>
      {ids.length === 0 && <p className="empty-cells muted">This notebook is empty. Add a cell to begin.</p>}
      <AddCellBar place="start" />
      <DndContext
        sensors={sensors}
        collisionDetection={closestCenter}
        onDragStart={({ active }) => setDragging(String(active.id))}
        onDragCancel={() => setDragging(null)}
        onDragEnd={onDragEnd}
      >
        <SortableContext items={ids} strategy={verticalListSortingStrategy}>
          {virtual ? (
            <VirtualCells ids={ids} pinned={dragging} renderCell={(id, i) => <SortableCell id={id} index={i} count={ids.length} />} />
          ) : (
            ids.map((id, i) => <SortableCell key={id} id={id} index={i} count={ids.length} />)
          )}
        </SortableContext>
      </DndContext>
    </div>
  );
}

function virtualListWanted(): boolean {
  if (typeof window === "undefined") return true;
  return new URLSearchParams(window.location.search).get("virtual") !== "0";
}

function SortableCell({ id, index, count }: { id: string; index: number; count: number }) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({ id });
  const style = { transform: CSS.Translate.toString(transform), transition, zIndex: isDragging ? 5 : undefined };
  const className = `cell-slot${isDragging ? " cell-slot-dragging" : ""}${index === count - 1 ? " cell-slot-last" : ""}`;
  return (
    <div ref={setNodeRef} style={style} className={className}>
      <CellView cellId={id} index={index} count={count} dragHandle={{ ...attributes, ...listeners, ref: setActivatorNodeRef }} />
      <AddCellBar place={{ after: id }} />
    </div>
  );
}
