// Each open notebook's chosen image, learnt when it is opened or saved, so that a kernel start
// needs no database query.
import type { Notebook } from "@cellar/protocol";

export class NotebookImages {
  private readonly byNotebook = new Map<string, string>();

  constructor(private readonly store: { get(id: string): Promise<Pick<Notebook, "image"> | null> }) {}

  /** A browser opens the notebook: whether it exists, learning its image when it does. */
  async open(notebookId: string): Promise<boolean> {
    const nb = await this.store.get(notebookId);
    if (nb) this.byNotebook.set(notebookId, nb.image ?? "base");
    return nb !== null;
  }

  /** The notebook was saved; its image may have changed (it applies at the next kernel start). */
  saved(notebookId: string, notebook?: Pick<Notebook, "image">): void {
    if (notebook?.image) this.byNotebook.set(notebookId, notebook.image);
  }

  of(notebookId: string): string {
    return this.byNotebook.get(notebookId) ?? "base";
  }
}
