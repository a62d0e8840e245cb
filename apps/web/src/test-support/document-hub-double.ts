// The gateway's side of the live document for tests of pages editing together: one Y.Doc that
// answers each page's sync exchange (y-protocols) and relays every change to the other pages,
// over in-memory sockets of the DocumentSocket shape (delivery is async, as over a network).
import type { DocumentSocket } from "@cellar/notebook-doc";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";

type Listener = (p: never) => void;

export class DocumentHubDouble {
  readonly doc: Y.Doc;
  private readonly pages = new Set<PageSocket>();

  constructor(
    private readonly notebookId: string,
    seed: (doc: Y.Doc) => void,
  ) {
    this.doc = new Y.Doc();
    seed(this.doc);
    this.doc.on("update", (update: Uint8Array, origin: unknown) => {
      const message = encode((e) => syncProtocol.writeUpdate(e, update));
      for (const page of this.pages) if (page !== origin) page.deliver("doc:sync", { notebookId: this.notebookId, message });
    });
  }

  /** A socket for one page, connected to this hub. */
  connect(): DocumentSocket {
    const page = new PageSocket((event, p, ack) => {
      if (event === "doc:flush") return ack?.({ ok: true });
      if (event !== "doc:sync") return;
      const reply = encoding.createEncoder();
      syncProtocol.readSyncMessage(decoding.createDecoder((p as { message: Uint8Array }).message), reply, this.doc, page);
      if (encoding.length(reply) > 0) page.deliver("doc:sync", { notebookId: this.notebookId, message: encoding.toUint8Array(reply) });
    });
    this.pages.add(page);
    return page as unknown as DocumentSocket;
  }
}

class PageSocket {
  connected = true;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly toHub: (event: string, p: unknown, ack?: (a: { ok: true }) => void) => void) {}

  emit(event: string, p: unknown, ack?: (a: { ok: true }) => void): void {
    queueMicrotask(() => this.toHub(event, p, ack));
  }

  on(event: string, listener: Listener): void {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(listener);
  }

  off(event: string, listener: Listener): void {
    this.listeners.get(event)?.delete(listener);
  }

  deliver(event: string, p: unknown): void {
    queueMicrotask(() => {
      for (const listener of this.listeners.get(event) ?? []) (listener as (p: unknown) => void)(p);
    });
  }
}

function encode(write: (e: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  write(encoder);
  return encoding.toUint8Array(encoder);
}
