"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { IMAGE_NAME_PATTERN, isPackagesImage } from "@cellar/protocol";
import { gateway } from "../../shared/gateway";
import "./save-image.css";

/** "Save as image…": the notebook's %pip packages (and their lock) become an image under a name,
 * which any notebook can then pick. The gateway builds it from the same wheels: a cache hit. */
export function SaveImageButton({ notebookId }: { notebookId: string }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (image: string) => gateway.images.saveFromNotebook(notebookId, { name: image }),
    onSuccess: async (reply) => {
      setSaved(reply.image.name);
      setOpen(false);
      setName("");
      await queryClient.invalidateQueries({ queryKey: ["images"] });
    },
  });
  const problem =
    name && !IMAGE_NAME_PATTERN.test(name)
      ? "lowercase letters, digits and dashes, starting with a letter"
      : isPackagesImage(name)
        ? "pip-… names are the notebooks' own"
        : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name && !problem) save.mutate(name);
  };

  if (!open)
    return (
      <span className="save-image">
        <button
          type="button"
          className="button button-small"
          data-testid="save-image"
          title="Save this notebook's pip packages as an image other notebooks can choose"
          onClick={() => {
            save.reset();
            setSaved(null);
            setOpen(true);
          }}
        >
          Save as image…
        </button>
        {saved && (
          <span className="muted" data-testid="save-image-done">
            {" "}
            saved as {saved}
          </span>
        )}
      </span>
    );
  return (
    <form className="save-image" data-testid="save-image-form" onSubmit={submit}>
      <input
        aria-label="Image name"
        data-testid="save-image-name"
        placeholder="image name"
        value={name}
        maxLength={40}
        autoFocus
        onChange={(e) => setName(e.target.value.trim())}
      />
      <button type="submit" className="button button-small" data-testid="save-image-submit" disabled={!name || !!problem || save.isPending}>
        {save.isPending ? "Building…" : "Save"}
      </button>
      <button type="button" className="button button-small" onClick={() => setOpen(false)} disabled={save.isPending}>
        Cancel
      </button>
      {(problem || save.error) && (
        <span className="image-picker-error" role="alert" data-testid="save-image-error">
          {problem ?? save.error?.message}
        </span>
      )}
    </form>
  );
}
