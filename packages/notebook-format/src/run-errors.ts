// Whether a cell's error ends a headless run, as nbclient decides it (_check_raise_for_error):
// only a reply whose status is "error" counts, and it is let through when the run allows errors
// or the cell is tagged "raises-exception" (it is meant to raise). `cellar run` and the gateway's
// notebook runner both ask this, so a notebook runs the same way on either.
import type { Cell } from "@cellar/protocol";
import { hasTag } from "./parameters";

export const RAISES_EXCEPTION_TAG = "raises-exception";

export interface RunErrorPolicy {
  /** Run on past every error (papermill's and nbclient's --allow-errors). */
  allowErrors?: boolean;
}

export function errorStopsRun(reply: { status: string }, cell: Pick<Cell, "metadata">, policy: RunErrorPolicy = {}): boolean {
  if (reply.status !== "error") return false;
  return !(policy.allowErrors || hasTag(cell, RAISES_EXCEPTION_TAG));
}
