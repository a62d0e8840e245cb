"use client";
import { useRef } from "react";
import { useRouter } from "next/navigation";
import { useImportNotebook } from "../../shared/notebook-queries";
import { GatewayError, isUnauthorized } from "@cellar/kernel-client";
import { UploadIcon } from "../../shared/icons";
import { notebookHref } from "./NotebookRow";

/** "Import .ipynb": the gateway validates the file; a valid one opens, an invalid one is
 * explained cell by cell and nothing is stored. */
export function ImportNotebookButton() {
  const input = useRef<HTMLInputElement>(null);
  const router = useRouter();
  const importNotebook = useImportNotebook();

  const onFile = async (file: File | undefined) => {
    if (!file) return;
    const text = await file.text();
    importNotebook.mutate({ text, fileName: file.name }, { onSuccess: (nb) => router.push(notebookHref(nb.id)) });
    if (input.current) input.current.value = ""; // choosing the same file again must fire again
  };

  const error = importNotebook.error;
  return (
    <>
      <input
        ref={input}
        type="file"
        accept=".ipynb,application/x-ipynb+json,application/json"
        hidden
        data-testid="import-file"
        onChange={(e) => void onFile(e.target.files?.[0])}
      />
      <button
        type="button"
        className="button"
        data-testid="import-notebook"
        onClick={() => input.current?.click()}
        disabled={importNotebook.isPending}
      >
        <UploadIcon /> {importNotebook.isPending ? "Importing…" : "Import .ipynb"}
      </button>
      {error && !isUnauthorized(error) && (
        <div className="import-error" role="alert" data-testid="import-error">
          <strong>Could not import {importNotebook.variables?.fileName}:</strong>{" "}
          {error instanceof GatewayError && error.problems.length ? "the file is not a valid Jupyter notebook." : error.message}
          {error instanceof GatewayError && error.problems.length > 0 && (
            <ul>
              {error.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </>
  );
}
