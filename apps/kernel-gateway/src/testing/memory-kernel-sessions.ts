// KernelSessionStore's rules over a Map, for KernelManager's unit tests (the real store is
// tested against SQLite and PostgreSQL in @cellar/db, and used by the gateway's integration tests).
import { storedStatus, type KernelSessionRecord, type KernelSessionStore } from "@cellar/db";

export function memoryKernelSessions(): KernelSessionStore & { rows: Map<string, KernelSessionRecord> } {
  const rows = new Map<string, KernelSessionRecord>();
  const copy = (r: KernelSessionRecord | undefined) => (r ? { ...r } : null);
  return {
    rows,
    async claim(session, replaces) {
      const current = rows.get(session.notebookId);
      if (current && current.sessionId !== replaces) return { won: false, record: { ...current } };
      const record = { reason: null, checkpoint: null, ...session, status: storedStatus(session.status), updatedAt: new Date() };
      rows.set(session.notebookId, record);
      return { won: true, record: { ...record } };
    },
    async update(sessionId, patch) {
      const row = [...rows.values()].find((r) => r.sessionId === sessionId);
      if (!row) return false;
      Object.assign(row, patch, patch.status ? { status: storedStatus(patch.status) } : {}, { updatedAt: new Date() });
      return true;
    },
    async get(notebookId) {
      return copy(rows.get(notebookId));
    },
    async list() {
      return [...rows.values()].map((r) => ({ ...r }));
    },
    async remove(sessionId) {
      for (const [id, r] of rows) if (r.sessionId === sessionId) rows.delete(id);
    },
    async checkpoints() {
      return [...rows.values()].flatMap((r) => (r.checkpoint ? [r.checkpoint] : []));
    },
  };
}
