"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { isPackagesImage, notebookPackagesOf } from "@cellar/protocol";
import { useNotebookContext, useNotebookState } from "./notebook-context";
import { gateway } from "../../shared/gateway";
import { SaveImageButton } from "./SaveImageButton";

/** Which image the notebook's kernel runs on, and the packages `%pip install` added over it.
 * Choosing another saves it and restarts the kernel on it (the packages come along). */
export function ImagePicker() {
  const { store, commands } = useNotebookContext();
  const notebookId = store.getState().notebookId;
  const images = useQuery({ queryKey: ["images"], queryFn: gateway.images.list, staleTime: 60_000 });
  const { image: current, pip } = useNotebookState((s) => s.kernelImage);
  const [error, setError] = useState<string | null>(null);

  const choose = async (image: string) => {
    setError(null);
    try {
      const saved = await gateway.notebooks.update(notebookId, { image });
      store.getState().setKernelImage(saved.image ?? image, notebookPackagesOf(saved.metadata));
      await commands.restart();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  // Images made of one notebook's %pip packages are shown as their parent and the packages.
  const options = (images.data ?? []).filter((i) => !isPackagesImage(i.name));
  return (
    <>
      <label
        className="image-picker"
        title={error ?? options.find((i) => i.name === current)?.description ?? "The image the kernel runs on"}
      >
        <span className="image-picker-label">Image</span>
        <select data-testid="image-picker" value={current} disabled={options.length === 0} onChange={(e) => void choose(e.target.value)}>
          {options.length === 0 && <option value={current}>{current}</option>}
          {options.map((i) => (
            <option key={i.name} value={i.name}>
              {i.name}
            </option>
          ))}
        </select>
        {pip.length > 0 && (
          <span className="image-picker-packages" data-testid="notebook-packages" title={pip.join("\n")}>
            + {pip.length === 1 ? pip[0] : `${pip.length} pip packages`}
          </span>
        )}
        {error && (
          <span className="image-picker-error" role="alert">
            {error}
          </span>
        )}
      </label>
      {pip.length > 0 && <SaveImageButton notebookId={notebookId} />}
    </>
  );
}
