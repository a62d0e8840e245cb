// What a person may do with one notebook, weakest first. The gateway decides a caller's role on
// each notebook (its owner, a grant, or a share link) and checks it on every route and socket
// event; the web only uses it to hide what would be refused anyway.
export const notebookRoles = ["viewer", "runner", "editor", "owner"] as const;
export type NotebookRole = (typeof notebookRoles)[number];

/** Whether `role` allows what `needed` allows (an editor may do what a runner may). */
export function roleAtLeast(role: NotebookRole | null | undefined, needed: NotebookRole): boolean {
  return role != null && notebookRoles.indexOf(role) >= notebookRoles.indexOf(needed);
}

/** The weaker of two roles: what a share link's cap leaves of a grant. */
export function weakerRole(a: NotebookRole, b: NotebookRole): NotebookRole {
  return notebookRoles.indexOf(a) <= notebookRoles.indexOf(b) ? a : b;
}
