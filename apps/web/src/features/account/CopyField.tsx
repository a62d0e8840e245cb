"use client";
import { useRef, useState } from "react";

/** A value the gateway gives out once (an invite link, a token's secret): read-only, selected on
 * focus, with Copy. */
export function CopyField({ label, value, testId, copyTestId }: { label: string; value: string; testId: string; copyTestId: string }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // No clipboard API (plain http on a LAN address is not a secure context): select the text
      // and let the older command copy it.
      input.current?.select();
      document.execCommand?.("copy");
    }
    setCopied(true);
  };
  return (
    <div className="invite-link-row">
      <label className="field">
        <span>{label}</span>
        <input ref={input} readOnly value={value} data-testid={testId} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <button type="button" className="button" data-testid={copyTestId} onClick={copy}>
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}
