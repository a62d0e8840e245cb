// Live editing on a browser socket: doc:sync (y-protocols sync) and doc:awareness for a notebook
// the socket opened. Every role may read the document and say where it is; only editors and
// owners change it. A viewer's or runner's change is dropped here, whatever its page shows, and
// the page is told once.
import { DOCUMENT_WRITE_ROLE, roleAtLeast, validateNotebookId } from "@cellar/protocol";
import type { DocumentHub } from "../documents/document-hub";
import type { DocumentHubs } from "../documents/document-hubs";
import type { BrowserServer } from "./browser-sockets";

export function attachDocumentSockets(io: BrowserServer, hubs: DocumentHubs): void {
  io.on("connection", (socket) => {
    const joined = new Map<string, Promise<DocumentHub | null>>();
    const told = new Set<string>();
    const refuse = (notebookId: string, reason: string) => {
      if (told.has(notebookId)) return;
      told.add(notebookId);
      socket.emit("doc:refused", { notebookId, reason });
    };
    const canWrite = (notebookId: string) => roleAtLeast(socket.data.roles.get(notebookId), DOCUMENT_WRITE_ROLE);
    /** Someone whose access was taken away (browser-sockets' recheckAccess) hears no more of it. */
    const stillOpen = (notebookId: string): boolean => {
      if (socket.data.roles.has(notebookId)) return true;
      const hub = joined.get(notebookId);
      joined.delete(notebookId);
      void hub?.then((opened) => opened && hubs.leave(notebookId, socket.id));
      return false;
    };

    /** The notebook's hub with this socket in it; the first message of a notebook joins. */
    const hubFor = (p: { notebookId?: unknown } | undefined): Promise<DocumentHub | null> | null => {
      const id = validateNotebookId(p?.notebookId);
      if (!id.ok) return null;
      const notebookId = id.value;
      if (!socket.data.roles.has(notebookId)) {
        refuse(notebookId, "Open the notebook first.");
        return null;
      }
      let hub = joined.get(notebookId);
      if (!hub) {
        hub = hubs.join(
          notebookId,
          {
            id: socket.id,
            sendSync: (message) => stillOpen(notebookId) && socket.emit("doc:sync", { notebookId, message }),
            sendAwareness: (update) => stillOpen(notebookId) && socket.emit("doc:awareness", { notebookId, update }),
          },
          canWrite(notebookId),
        );
        joined.set(notebookId, hub);
      }
      return hub;
    };

    socket.on("doc:sync", async (p) => {
      const hub = hubFor(p);
      if (!hub || !(p.message instanceof Uint8Array)) return;
      const notebookId = p.notebookId;
      const opened = await hub;
      if (!opened) return refuse(notebookId, "No such notebook.");
      // The role is read at each message: a grant changed or revoked meanwhile counts at once.
      if (opened.receiveSync(socket.id, p.message, canWrite(notebookId)) === "refused")
        refuse(notebookId, "You may not edit this notebook: your changes are not saved.");
    });

    socket.on("doc:awareness", async (p) => {
      const hub = hubFor(p);
      if (!hub || !(p.update instanceof Uint8Array)) return;
      (await hub)?.receiveAwareness(socket.id, p.update);
    });

    socket.on("doc:flush", async (p, ack) => {
      const reply = typeof ack === "function" ? ack : () => {};
      const id = validateNotebookId(p?.notebookId);
      const hub = id.ok ? joined.get(id.value) : undefined;
      const opened = await hub;
      if (!opened) return reply({ ok: false, error: "Open the notebook first." });
      try {
        await opened.persist();
        reply({ ok: true });
      } catch (error) {
        reply({ ok: false, error: (error as Error).message });
      }
    });

    socket.on("disconnect", () => {
      for (const [notebookId, hub] of joined) void hub.then((opened) => opened && hubs.leave(notebookId, socket.id));
    });
  });
}
