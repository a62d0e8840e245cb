"use client";
import dynamic from "next/dynamic";
import { useState } from "react";
import type { OpenTerminal } from "./XtermScreen";
import "./terminal.css";

const XtermScreen = dynamic(() => import("./XtermScreen"), {
  ssr: false,
  loading: () => <div className="muted terminal-message">Loading terminal…</div>,
});

/** A terminal tab: a shell in the kernel's sandbox. When the shell ends (it exited, or its
 * kernel restarted, died or was suspended) the screen says why and offers a new one. */
export function TerminalTab({ open }: { open: OpenTerminal }) {
  const [generation, setGeneration] = useState(0);
  const [ended, setEnded] = useState<string | null>(null);
  return (
    <div className="terminal-tab" data-testid="terminal">
      {ended !== null && (
        <div className="terminal-ended" data-testid="terminal-ended">
          <span>Terminal ended: {ended}.</span>
          <button
            type="button"
            onClick={() => {
              setEnded(null);
              setGeneration((g) => g + 1);
            }}
            data-testid="terminal-reopen"
          >
            Open a new terminal
          </button>
        </div>
      )}
      <XtermScreen key={generation} open={open} onEnded={setEnded} />
    </div>
  );
}
