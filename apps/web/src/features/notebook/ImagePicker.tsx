"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNotebookContext } from "./notebook-context";
import { gateway } from "../../shared/gateway";

/** Which image the notebook's kernel runs on. Choosing another saves it and restarts the kernel on it. */
export function ImagePicker() {
  const { store, commands } = useNotebookContext();
  const notebookId = store.getState().notebookId;
  const queryClient = useQueryClient();
  const images = useQuery({ queryKey: ["images"], queryFn: gateway.images.list, staleTime: 60_000 });
  const chosen = useQuery({
    queryKey: ["notebook-image", notebookId],
    queryFn: async () => (await gateway.notebooks.get(notebookId)).image ?? "base",
  });
  const [error, setError] = useState<string | null>(null);

  const choose = async (image: string) => {
    setError(null);
    try {
      await gateway.notebooks.update(notebookId, { image });
      queryClient.setQueryData(["notebook-image", notebookId], image);
      await commands.restart();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const options = images.data ?? [];
  const current = chosen.data ?? "base";
  return (
    <label className="image-picker" title={error ?? options.find((i) => i.name === current)?.description ?? "The image the kernel runs on"}>
      <span className="image-picker-label">Image</span>
      <select
        data-testid="image-picker"
        value={current}
        disabled={!chosen.data || options.length === 0}
        onChange={(e) => void choose(e.target.value)}
      >
        {options.length === 0 && <option value={current}>{current}</option>}
        {options.map((i) => (
          <option key={i.name} value={i.name}>
            {i.name}
          </option>
        ))}
      </select>
      {error && (
        <span className="image-picker-error" role="alert">
          {error}
        </span>
      )}
    </label>
  );
}
