// Each open notebook's chosen image and its own pip packages, learnt when it is opened or saved
// (or its packages change), so that a kernel start needs no database query.
import { notebookPackagesOf, type Notebook, type NotebookPackages } from "@cellar/protocol";

export interface NotebookImageChoice {
  image: string;
  /** Its `%pip` packages, layered over `packages.from`; null when it has none. */
  packages: NotebookPackages | null;
}

type Known = Pick<Notebook, "image" | "metadata">;

export class NotebookImages {
  private readonly byNotebook = new Map<string, NotebookImageChoice>();

  constructor(private readonly store: { get(id: string): Promise<Known | null> }) {}

  /** A browser opens the notebook: whether it exists, learning its image when it does. */
  async open(notebookId: string): Promise<boolean> {
    const nb = await this.store.get(notebookId);
    if (nb) this.saved(notebookId, nb);
    return nb !== null;
  }

  /** The notebook was saved or its packages changed (it applies at the next kernel start). */
  saved(notebookId: string, notebook?: Known): void {
    if (!notebook?.image) return;
    this.byNotebook.set(notebookId, { image: notebook.image, packages: notebookPackagesOf(notebook.metadata) });
  }

  /** What it runs on; a notebook not opened here yet is read from the database. */
  async of(notebookId: string): Promise<NotebookImageChoice> {
    const known = this.byNotebook.get(notebookId);
    if (known) return known;
    await this.open(notebookId);
    return this.byNotebook.get(notebookId) ?? { image: "base", packages: null };
  }
}
