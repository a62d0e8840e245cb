"use client";
import { Fragment, useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import { defaultRangeExtractor, useWindowVirtualizer, type Range } from "@tanstack/react-virtual";
import type { CellOutputState } from "@cellar/protocol";
import { useNotebookContext, useNotebookState } from "./notebook-context";
import type { CellDoc } from "./document-slice";

/** Renders only the cells near the viewport (the page itself scrolls), so a 1,000-cell notebook
 * mounts a screenful of editors instead of a thousand. Heights are measured as cells render and
 * estimated from their source and outputs until then. The active cell and the one being dragged
 * stay mounted wherever they are, so focus, edit mode and a drag survive scrolling away; a focus
 * request (keys, find, run-and-advance) scrolls its cell into the rendered range first. */
export function VirtualCells({
  ids,
  pinned,
  renderCell,
}: {
  ids: string[];
  pinned: string | null;
  renderCell: (id: string, index: number) => ReactNode;
}) {
  const { store } = useNotebookContext();
  const listRef = useRef<HTMLDivElement>(null);
  const scrollMargin = useListOffset(listRef);
  const activeId = useNotebookState((s) => s.activeCellId);
  const focus = useNotebookState((s) => s.focusRequest);
  const keep = [activeId, pinned].map((id) => (id ? ids.indexOf(id) : -1)).filter((i) => i >= 0);

  const virtualizer = useWindowVirtualizer({
    count: ids.length,
    estimateSize: (i) => estimateHeight(store.getState().cells[i], store.getState().outputs[ids[i]]),
    getItemKey: (i) => ids[i],
    overscan: 6,
    scrollMargin,
    rangeExtractor: (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      const extra = keep.filter((i) => !indexes.includes(i));
      return extra.length ? [...indexes, ...extra].sort((a, b) => a - b) : indexes;
    },
  });

  // The kept indexes are read by rangeExtractor above, a new function each render, so the range
  // follows them without more. (This once called virtualizer.measure() on every change of the
  // active cell: that forgot every measured height, and a cell whose size did not change again
  // went back to its estimate, so Shift+Enter under a DataFrame drew the next cell over its table.)

  useEffect(() => {
    if (!focus) return;
    const index = ids.indexOf(focus.cellId);
    if (index >= 0) virtualizer.scrollToIndex(index, { align: "auto" });
    // Only a new request moves the page; ids changing under it must not.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focus]);

  const items = virtualizer.getVirtualItems();
  return (
    <div
      ref={listRef}
      className="virtual-cells"
      style={{ position: "relative", height: virtualizer.getTotalSize(), overflowAnchor: "none" }}
    >
      {/* The rendered rows are in normal flow inside one shifted block, not each placed at its
          measured offset: a row that grows (an output frame reporting its height) pushes the rows
          after it in the same layout, where placed rows kept their old offsets until the
          virtualizer had measured and React rendered again, and under load the next cell was
          drawn over the output for frames. (flow-root: a row's margins stay inside the box that is
          measured.) Only a kept row away from the range (the active cell,
          the dragged one) sits after a spacer of the measured gap. Scroll anchoring is off in the
          list: the virtualizer already keeps the viewport still when a row above it resizes. */}
      <div
        style={{
          position: "absolute",
          top: 0,
          left: 0,
          width: "100%",
          transform: `translateY(${(items[0]?.start ?? scrollMargin) - scrollMargin}px)`,
        }}
      >
        {items.map((item, k) => {
          const gap = k === 0 ? 0 : item.start - items[k - 1]!.end;
          return (
            <Fragment key={item.key}>
              {gap > 0 ? <div className="virtual-gap" aria-hidden="true" style={{ height: gap }} /> : null}
              <div data-index={item.index} ref={virtualizer.measureElement} className="virtual-cell" style={{ display: "flow-root" }}>
                {renderCell(ids[item.index], item.index)}
              </div>
            </Fragment>
          );
        })}
      </div>
    </div>
  );
}

/** The list's distance from the top of the document; bars above it (notices, find) move it. */
function useListOffset(ref: React.RefObject<HTMLDivElement | null>): number {
  const [offset, setOffset] = useState(0);
  useLayoutEffect(() => {
    const measure = () => {
      const el = ref.current;
      if (el) setOffset(Math.round(el.getBoundingClientRect().top + window.scrollY));
    };
    measure();
    if (typeof ResizeObserver === "undefined") return;
    // Anything appearing above the list changes the document's height too; re-reading one
    // rectangle is cheap and a state update that does not change the number renders nothing.
    const observer = new ResizeObserver(measure);
    observer.observe(document.body);
    return () => observer.disconnect();
  }, [ref]);
  return offset;
}

const LINE_PX = 20;

/** A guess good enough that the scrollbar does not jump much when the cell is measured. */
function estimateHeight(cell: CellDoc | undefined, outputs: CellOutputState | undefined): number {
  if (!cell) return 80;
  const lines = cell.source.split("\n").length;
  let height = 40 + 22 + lines * LINE_PX; // padding, add-cell bar, editor
  for (const output of outputs?.outputs ?? []) {
    if (output.output_type === "stream") height += Math.min(output.text.split("\n").length, 40) * LINE_PX;
    else if (output.output_type === "error") height += Math.min(output.traceback.length * 3, 40) * LINE_PX;
    else height += "image/png" in output.data || "image/svg+xml" in output.data ? 300 : 3 * LINE_PX;
  }
  return height;
}
