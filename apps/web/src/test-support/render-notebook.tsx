// The notebook page as a user sees it, for component tests: a real store, real commands, the
// page's keys and a real kernel connection talking socket.io to a gateway double, rendered in
// NotebookLayout with a fresh react-query client. Everything it starts is stopped when the test
// finishes.
import { onTestFinished } from "vitest";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, render } from "@testing-library/react";
import type { Notebook, NotebookRole } from "@cellar/protocol";
import { NotebookContext } from "../features/notebook/notebook-context";
import { KernelConnection } from "../features/kernel/kernel-socket";
import { createNotebookCommands, type NotebookCommands } from "../features/notebook/notebook-commands";
import { createNotebookStore, type NotebookStore } from "../features/notebook/notebook-store";
import { useNotebookKeys } from "../features/notebook/use-notebook-keys";
import { NotebookLayout } from "../features/notebook/NotebookLayout";
import { startGatewayDouble, until, type GatewayDouble } from "./gateway-double";
import type { SharedNotebook } from "../features/collab/shared-notebook";

/** A gateway double whose kernel is `status`, closed after the test. */
export async function startGateway(status: "idle" | "starting", workers = 1): Promise<GatewayDouble> {
  const gw = await startGatewayDouble(status, workers);
  onTestFinished(() => gw.close());
  return gw;
}

/** Renders `notebook` (as getNotebook answered it: with the caller's role, else the owner's) and
 * connects its page to `gw`. Without a gateway HTTP API, queries such as the image list fail, as
 * they would offline, unless the test stubs `fetch` (render-with-gateway.tsx). `shared`: the
 * page's shared document, made for its store (without one, the store alone holds the cells). */
export function renderNotebook(
  gw: GatewayDouble,
  notebook: () => Notebook & { role?: NotebookRole },
  options: { shared?: (store: NotebookStore) => SharedNotebook } = {},
) {
  const store = createNotebookStore(notebook());
  const shared = options.shared?.(store);
  const kernel = new KernelConnection(notebook().id, store, {
    fetchNotebook: async () => notebook(),
    createSocket: gw.connectSocket,
    flushEveryMs: 5,
  });
  const commands = createNotebookCommands(store, kernel, async () => {});
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queries}>
      <NotebookContext.Provider value={{ store, commands, saveNow: async () => {}, kernel, shared }}>
        <Keys store={store} commands={commands} />
        <NotebookLayout />
      </NotebookContext.Provider>
    </QueryClientProvider>,
  );
  kernel.connect();
  onTestFinished(() => kernel.dispose());
  return { store, kernel, commands, shared };
}

function Keys({ store, commands }: { store: NotebookStore; commands: NotebookCommands }) {
  useNotebookKeys(store, commands, async () => {});
  return null;
}

/** Waits, inside act(), until `check` holds. */
export const waitUntil = (check: () => boolean, what: string) => act(() => until(check, what));
