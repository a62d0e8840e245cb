// The Images page's routes: an image's last build log (anyone signed in may read it, as anyone
// may list the images), and saving a notebook's %pip packages as a named image (its editors:
// the image is built from what they may already change).
import type { builtImageReplySchema, imageBuildLogReplySchema } from "@cellar/protocol";
import type { z } from "zod";
import { SaveImageError, type SaveImageErrorCode, type SaveImageRequest } from "../images/save-notebook-image";
import type { ApiHandlers } from "./api-handlers";
import { HttpError } from "./http-errors";
import { notFound, type NotebookApiStore } from "./notebooks-api";

export interface ImagesApiDeps {
  store: Pick<NotebookApiStore, "get">;
  /** Null when this gateway has built or checked no image of that name since it started. */
  imageBuildLog?(name: string): z.output<typeof imageBuildLogReplySchema> | null;
  /** Rejects with a SaveImageError (its `code` picks the status). */
  saveNotebookImage?(request: SaveImageRequest): Promise<z.output<typeof builtImageReplySchema>>;
}

const STATUS_OF: Record<SaveImageErrorCode, number> = { "no-packages": 400, "reserved-name": 400, "name-taken": 409, "build-failed": 422 };

export function imagesApi(deps: ImagesApiDeps): ApiHandlers<"imageBuildLog" | "saveNotebookImage"> {
  return {
    imageBuildLog: async (request) => {
      const log = deps.imageBuildLog?.(request.params.name);
      if (!log) throw new HttpError(404, `No build of ${request.params.name} is on record since the gateway started`);
      return log;
    },
    saveNotebookImage: async (request) => {
      if (!deps.saveNotebookImage) throw new HttpError(404, "Not found");
      const notebook = (await deps.store.get(request.params.id)) ?? notFound();
      try {
        return await deps.saveNotebookImage({
          name: request.body.name,
          description: request.body.description,
          metadata: notebook.metadata,
          title: notebook.title,
        });
      } catch (error) {
        if (error instanceof SaveImageError) throw new HttpError(STATUS_OF[error.code], error.message);
        throw error;
      }
    },
  };
}
