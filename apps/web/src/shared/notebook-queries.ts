// Server state: notebooks as the gateway stores them.
"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Notebook } from "@cellar/protocol";
import { gateway } from "./gateway";

export const notebookKeys = {
  all: ["notebooks"] as const,
  one: (id: string) => ["notebooks", id] as const,
};

export function useNotebooks() {
  return useQuery({ queryKey: notebookKeys.all, queryFn: gateway.notebooks.list });
}

/** Read once per visit: after that the page's store owns the document, and a background refetch
 * must not overwrite what the user is typing. */
export function useNotebook(id: string | null) {
  return useQuery({
    queryKey: notebookKeys.one(id ?? ""),
    queryFn: () => gateway.notebooks.get(id!),
    enabled: !!id,
    staleTime: Infinity,
    gcTime: 0,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
  });
}

export function useCreateNotebook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (title?: string) => gateway.notebooks.create(title),
    onSuccess: (notebook: Notebook) => {
      client.setQueryData(notebookKeys.one(notebook.id), notebook);
      void client.invalidateQueries({ queryKey: notebookKeys.all, exact: true });
    },
  });
}

export function useDeleteNotebook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => gateway.notebooks.remove(id),
    onSuccess: () => client.invalidateQueries({ queryKey: notebookKeys.all, exact: true }),
  });
}

/** Mutations that add a notebook to the list or change its row. */
function useListMutation<A, R>(mutationFn: (arg: A) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn,
    onSuccess: () => client.invalidateQueries({ queryKey: notebookKeys.all, exact: true }),
  });
}

export const useRenameNotebook = () =>
  useListMutation(({ id, title }: { id: string; title: string }) => gateway.notebooks.rename(id, title));
export const useDuplicateNotebook = () => useListMutation((id: string) => gateway.notebooks.duplicate(id));
export const useImportNotebook = () =>
  useListMutation(({ text, fileName }: { text: string; fileName: string }) => gateway.notebooks.import(text, fileName));
