"use client";
import { useEffect, useRef, useState } from "react";
import type { InputPrompt as Prompt } from "./run-slice";

export interface InputPromptProps {
  prompt: Prompt;
  onAnswer(value: string): void;
}

/** A cell's `input()` waiting for the user, as in Jupyter: the prompt and a text box (a password
 * box for `getpass()`) at the end of the cell's outputs; Enter answers. It takes focus when it
 * appears, and command-mode keys leave an input alone, so typing here never acts on cells. */
export function InputPrompt({ prompt, onAnswer }: InputPromptProps) {
  const [value, setValue] = useState("");
  const box = useRef<HTMLInputElement>(null);
  useEffect(() => {
    box.current?.focus({ preventScroll: false });
  }, [prompt.request.msg_id]);
  return (
    <label className="input-prompt" data-testid="input-prompt">
      <span className="input-prompt-text">{prompt.prompt}</span>
      <input
        ref={box}
        data-testid="input-prompt-box"
        type={prompt.password ? "password" : "text"}
        autoComplete="off"
        spellCheck={false}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={(e) => {
          if (e.key !== "Enter" || e.nativeEvent.isComposing) return;
          e.preventDefault();
          onAnswer(value);
        }}
      />
    </label>
  );
}
