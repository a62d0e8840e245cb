"use client";
// Who has the notebook open: one initial per person (their colour), their name on hover, from
// the shared document's awareness.
import { useEffect, useState } from "react";
import { useNotebookContext } from "../notebook/notebook-context";

interface Viewer {
  clientId: number;
  name: string;
  color: string;
}

export function PresenceBar() {
  const { shared } = useNotebookContext();
  const [viewers, setViewers] = useState<Viewer[]>([]);
  useEffect(() => {
    const awareness = shared?.awareness;
    if (!awareness) return;
    const read = () =>
      setViewers(
        [...awareness.getStates()].flatMap(([clientId, state]) => {
          const user = state.user as { name?: unknown; color?: unknown } | undefined;
          return typeof user?.name === "string" ? [{ clientId, name: user.name, color: String(user.color ?? "#888") }] : [];
        }),
      );
    read();
    awareness.on("change", read);
    return () => awareness.off("change", read);
  }, [shared]);
  if (viewers.length === 0) return null;
  return (
    <ul className="presence" data-testid="presence" aria-label="Who is viewing">
      {viewers.map((v) => (
        <li key={v.clientId} className="presence-avatar" style={{ background: v.color }} title={v.name} data-testid="presence-avatar">
          {v.name.slice(0, 1).toUpperCase()}
        </li>
      ))}
    </ul>
  );
}
