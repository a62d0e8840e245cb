"use client";
import { useEffect, useState } from "react";
import { gateway } from "../../shared/gateway";
import type { NotebookStore } from "../notebook/notebook-store";
import { KernelConnection } from "./kernel-socket";

/** The open notebook's link to its kernel: the page's one gateway socket, connected while the
 * calling component is mounted. Components get the kernel from here (or the notebook context),
 * never by opening a socket themselves. `savedWidgets`: the notebook's `metadata.widgets`. */
export function useKernelConnection(notebookId: string, store: NotebookStore, savedWidgets?: unknown): KernelConnection {
  const [kernel] = useState(() => new KernelConnection(notebookId, store, { fetchNotebook: gateway.notebooks.get, savedWidgets }));
  useEffect(() => {
    kernel.connect();
    return () => kernel.dispose();
  }, [kernel]);
  return kernel;
}
