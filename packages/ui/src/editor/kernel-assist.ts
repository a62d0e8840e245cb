// Tab completion and Shift+Tab inspection, as in JupyterLab: the editor asks whoever supplies an
// `EditorAssist` (the web app asks the kernel) and shows the answer in CodeMirror's autocomplete
// popup or a tooltip under the cursor. The editor knows nothing about kernels.
import {
  acceptCompletion,
  autocompletion,
  closeCompletion,
  completionStatus,
  startCompletion,
  type CompletionSource,
} from "@codemirror/autocomplete";
import { Prec, StateEffect, StateField, type Extension, type Text } from "@codemirror/state";
import { type EditorView, keymap, showTooltip, tooltips, type Tooltip } from "@codemirror/view";
import { ansiToHtml } from "../outputs/ansi";

export interface EditorCompletions {
  /** The span the chosen match replaces (editor offsets). */
  from: number;
  to: number;
  items: Array<{ label: string; type?: string }>;
}

/** Why there is no answer (e.g. the kernel is busy), shown to the user briefly. */
export interface EditorHint {
  message: string;
}

export interface EditorAssist {
  complete(code: string, offset: number): Promise<EditorCompletions | EditorHint | null>;
  /** `text` may carry ANSI colour codes (IPython's docstrings do). */
  inspect(code: string, offset: number): Promise<{ text: string } | EditorHint | null>;
}

interface TipContent {
  pos: number;
  text?: string;
  message?: string;
}

const setTip = StateEffect.define<TipContent | null>();

/** The inspect (or hint) tooltip: it goes away when the user types, moves or presses Escape. */
const tipField = StateField.define<TipContent | null>({
  create: () => null,
  update(tip, tr) {
    for (const e of tr.effects) if (e.is(setTip)) return e.value;
    return tr.docChanged || tr.selection ? null : tip;
  },
  provide: (field) => showTooltip.compute([field], (state) => tooltipFor(state.field(field))),
});

function tooltipFor(tip: TipContent | null): Tooltip | null {
  if (!tip) return null;
  return {
    pos: tip.pos,
    above: false,
    create: () => {
      const dom = document.createElement("div");
      if (tip.text !== undefined) {
        dom.className = "cellar-inspect";
        dom.dataset.testid = "inspect-tooltip";
        const pre = document.createElement("pre");
        pre.innerHTML = ansiToHtml(tip.text); // escaped by ansi_up before colouring
        dom.appendChild(pre);
      } else {
        dom.className = "cellar-assist-hint";
        dom.dataset.testid = "assist-hint";
        dom.textContent = tip.message ?? "";
      }
      return { dom };
    },
  };
}

/** Tab completes only after something completable; at a line's start or after a space it indents. */
function completableBefore(view: EditorView): boolean {
  const sel = view.state.selection.main;
  if (!sel.empty || sel.head === 0) return false;
  const before = view.state.sliceDoc(sel.head - 1, sel.head);
  return !/\s/.test(before);
}

/** `assist` is read on each key press, so the editor never has to be rebuilt when it changes. */
export function kernelAssist(assist: () => EditorAssist | undefined): Extension {
  // The kernel's last answer, offered to the popup only while the document is the one it answered.
  let offered: { doc: Text; result: EditorCompletions } | null = null;

  const fromKernel: CompletionSource = (context) => {
    if (!offered || offered.doc !== context.state.doc) return null;
    const { from, to, items } = offered.result;
    offered = null;
    return {
      from,
      to,
      options: items.map((item) => ({ label: item.label, detail: item.type, type: item.type })),
      validFor: /^[\w$]*$/,
    };
  };

  /** Runs `ask` for the cursor; the answer is dropped if the user has typed or moved meanwhile. */
  const askAtCursor = <T>(
    view: EditorView,
    ask: (a: EditorAssist, code: string, pos: number) => Promise<T>,
    show: (answer: T, pos: number) => void,
  ) => {
    const a = assist();
    if (!a) return false;
    const doc = view.state.doc;
    const pos = view.state.selection.main.head;
    ask(a, doc.toString(), pos).then(
      (answer) => {
        if (!view.dom.isConnected || view.state.doc !== doc || view.state.selection.main.head !== pos) return;
        show(answer, pos);
      },
      () => {},
    );
    return true;
  };

  const complete = (view: EditorView) => {
    // Within the popup's first moments CodeMirror ignores accepting (a guard against a stray key);
    // Tab must not then fall through to indenting.
    if (completionStatus(view.state) === "active") return acceptCompletion(view) || true;
    if (!completableBefore(view)) return false;
    return askAtCursor(
      view,
      (a, code, pos) => a.complete(code, pos),
      (answer, pos) => {
        if (!answer) return;
        if ("message" in answer) return view.dispatch({ effects: setTip.of({ pos, message: answer.message }) });
        if (answer.items.length === 1) {
          const insert = answer.items[0].label;
          view.dispatch({
            changes: { from: answer.from, to: answer.to, insert },
            selection: { anchor: answer.from + insert.length },
            userEvent: "input.complete",
          });
          return;
        }
        offered = { doc: view.state.doc, result: answer };
        startCompletion(view);
      },
    );
  };

  const inspect = (view: EditorView) =>
    askAtCursor(
      view,
      (a, code, pos) => a.inspect(code, pos),
      (answer, pos) => {
        if (answer) view.dispatch({ effects: setTip.of({ pos, ...answer }) });
      },
    );

  const dismissTip = (view: EditorView) => {
    if (view.state.field(tipField)) {
      view.dispatch({ effects: setTip.of(null) });
      return true;
    }
    return completionStatus(view.state) !== null && closeCompletion(view);
  };

  return [
    tipField,
    // Tooltips live in <body> so a cell's overflow or a virtual list's transform cannot clip them.
    tooltips({ parent: typeof document === "undefined" ? undefined : document.body }),
    autocompletion({ override: [fromKernel], activateOnTyping: false, icons: false, defaultKeymap: true }),
    Prec.highest(
      keymap.of([
        { key: "Tab", run: complete },
        { key: "Shift-Tab", run: inspect },
        { key: "Escape", run: dismissTip },
      ]),
    ),
  ];
}
