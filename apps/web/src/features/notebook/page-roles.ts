// What the notebook page offers for each role. Every entry is the least role of the gateway check
// that would answer the action (the protocol's socket event roles and route table), so the page
// hides exactly what the gateway would refuse and a change there reaches the page by itself.
import { apiRoutes, browserEventRoles, DOCUMENT_WRITE_ROLE, kernelMessageRoles, type NotebookRole, roleAtLeast } from "@cellar/protocol";
import { useNotebookState } from "./notebook-context";

export const pageActionRoles = {
  /** Cells: their sources, type, order, adding and deleting them. */
  edit: DOCUMENT_WRITE_ROLE,
  /** The title and the kernel image (saved with a PUT of the notebook). */
  rename: apiRoutes.updateNotebook.role,
  changeImage: apiRoutes.updateNotebook.role,
  run: kernelMessageRoles.execute_request,
  interrupt: browserEventRoles["kernel:interrupt"],
  /** Cancel on a cell waiting for a busy device. */
  cancelQueued: browserEventRoles["cell:cancel-queued"],
  restart: browserEventRoles["kernel:restart"],
  clearOutputs: browserEventRoles["outputs:clear"],
  /** Completion and inspection in a cell's editor. */
  assist: kernelMessageRoles.complete_request,
  terminal: browserEventRoles["terminal:open"],
  listFiles: apiRoutes.listFiles.role,
  downloadFile: apiRoutes.downloadFile.role,
  /** Uploading a file, or saving one from its editor tab. */
  writeFile: apiRoutes.uploadFile.role,
  createFolder: apiRoutes.createFolder.role,
  renameFile: apiRoutes.renameFile.role,
  deleteFile: apiRoutes.deleteFile.role,
  share: apiRoutes.addGrant.role,
} as const satisfies Record<string, NotebookRole>;

export type PageAction = keyof typeof pageActionRoles;

/** Whether `role` may do `action` (the gateway would not refuse it). */
export function may(role: NotebookRole | null | undefined, action: PageAction): boolean {
  return roleAtLeast(role, pageActionRoles[action]);
}

/** `may` for the open notebook's role, re-rendering when the role changes. */
export function useMay(action: PageAction): boolean {
  return useNotebookState((s) => may(s.role, action));
}
