// The notebook routes: list (own and shared), create, read, save, delete. Bodies are checked by the route table's
// schemas before a handler runs. Outputs are not accepted from the browser; the gateway records
// them from the kernel.
import type { NotebookPackages, NotebookRole, Notebook, NotebookSummary, NotebookUpdate } from "@cellar/protocol";
import { rebasedPackages } from "../notebooks/notebook-packages";
import type { ApiHandlers } from "./api-handlers";
import { userOf } from "./auth";
import { HttpError } from "./http-errors";

export interface NotebookApiStore {
  list(userId: string): Promise<NotebookSummary[]>;
  create(userId: string, title?: string): Promise<Notebook>;
  get(id: string): Promise<Notebook | null>;
  update(id: string, update: NotebookUpdate): Promise<Notebook | null>;
  setPackages(id: string, image: string, packages: NotebookPackages | null): Promise<boolean>;
  remove(id: string): Promise<boolean>;
}

export interface NotebookApiDeps {
  store: NotebookApiStore;
  /** The notebooks others shared with the user, with the user's role and the owner's name. */
  sharedWith(userId: string): Promise<Array<NotebookSummary & { role: NotebookRole; ownerName: string }>>;
  /** `update`: what the request changed (a title-only save has no cells). */
  onSaved(notebookId: string, notebook: Notebook, update: NotebookUpdate): void;
  onDeleted?(notebookId: string): void;
  imageExists(name: string): boolean;
}

export function notebooksApi(
  deps: NotebookApiDeps,
): ApiHandlers<"listNotebooks" | "createNotebook" | "getNotebook" | "updateNotebook" | "deleteNotebook"> {
  const { store } = deps;
  return {
    // The caller's own notebooks first, then those shared with them.
    listNotebooks: async (req) => {
      const user = userOf(req);
      const [own, shared] = await Promise.all([store.list(user.id), deps.sharedWith(user.id)]);
      return [...own.map((nb) => ({ ...nb, role: "owner" as const, ownerName: user.name })), ...shared];
    },
    createNotebook: async (req, reply) => reply.code(201).send(await store.create(userOf(req).id, req.body.title)),
    // The role the route's check found: what the page may offer this caller.
    getNotebook: async (req) => ({ ...((await store.get(req.params.id)) ?? notFound()), role: req.notebookRole ?? "viewer" }),
    updateNotebook: async (req) => {
      const update = req.body;
      if (update.image !== undefined && !deps.imageExists(update.image)) throw new HttpError(400, `No image named ${update.image}`);
      let nb = (await store.update(req.params.id, update)) ?? notFound();
      // A notebook with %pip packages keeps them over the image chosen now.
      const rebased = update.image === undefined ? null : rebasedPackages(nb.metadata, update.image);
      if (rebased) {
        await store.setPackages(nb.id, rebased.image, rebased.packages);
        nb = (await store.get(nb.id)) ?? notFound();
      }
      deps.onSaved(nb.id, nb, update);
      return nb;
    },
    deleteNotebook: async (req, reply) => {
      if (!(await store.remove(req.params.id))) notFound();
      deps.onDeleted?.(req.params.id);
      return reply.code(204).send(null);
    },
  };
}

export function notFound(): never {
  throw new HttpError(404, "No such notebook");
}
