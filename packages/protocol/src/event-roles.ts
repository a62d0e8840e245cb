// Who may send what over a notebook's socket: the least role for each browser event, and for
// each kernel message a browser may send. The gateway checks both on every event; the page reads
// them only to hide controls that would be refused anyway.
import type { BrowserToGateway } from "./events";
import type { NotebookRole } from "./roles";

/** Kernel messages a browser may send (anything else, e.g. a forged iopub, is refused), each with
 * the least role that may send it. Completion, inspection and history read the kernel's state
 * and evaluate attribute lookups, so they are an editor's, like typing code. Comm messages
 * (widgets) are a runner's: they reach only the comm targets and handlers the notebook's own cells
 * registered, as moving a slider of a cell someone ran does; a viewer watches them, never sends. */
export const kernelMessageRoles = {
  execute_request: "runner",
  input_reply: "runner",
  kernel_info_request: "runner",
  comm_info_request: "runner",
  comm_open: "runner",
  comm_msg: "runner",
  comm_close: "runner",
  complete_request: "editor",
  inspect_request: "editor",
  is_complete_request: "editor",
  history_request: "editor",
} as const satisfies Record<string, NotebookRole>;

/** The least role whose execute_request runs the code it carries. Below it (a runner) the gateway
 * runs the cell's source as the notebook holds it, named by `metadata.cellId`: a runner may run
 * the notebook, never code of their own. */
export const OWN_CODE_ROLE: NotebookRole = "editor";

/** The least role for each browser event on a notebook (kernel:send also needs its message's). A
 * new event without an entry does not compile. */
export const browserEventRoles = {
  "notebook:open": "viewer",
  "kernel:send": "runner",
  "kernel:interrupt": "runner",
  "kernel:restart": "runner",
  "outputs:clear": "editor",
  "cell:cancel-queued": "runner",
  // A shell in the sandbox runs anything: an editor's, like their own code.
  "terminal:open": "editor",
  "terminal:input": "editor",
  "terminal:resize": "editor",
  "terminal:close": "editor",
  // Anyone may follow the live document and show where they are; the gateway drops the changes
  // of anyone below DOCUMENT_WRITE_ROLE.
  "doc:sync": "viewer",
  "doc:awareness": "viewer",
  "doc:flush": "viewer",
} as const satisfies Record<keyof BrowserToGateway, NotebookRole>;

/** The least role whose changes to the live document (doc:sync updates) are kept. */
export const DOCUMENT_WRITE_ROLE: NotebookRole = "editor";

/** What a refused caller is told. */
export function roleRefusal(needed: NotebookRole): string {
  return `Needs the ${needed} role on this notebook.`;
}
