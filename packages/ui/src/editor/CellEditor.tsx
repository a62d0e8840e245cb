import { useEffect, useRef } from "react";
import { Annotation, Compartment, EditorState, Prec, Transaction, type Extension } from "@codemirror/state";
import { drawSelection, EditorView, highlightSpecialChars, keymap, placeholder as placeholderExt } from "@codemirror/view";
import { searchHighlight, type SearchMatch } from "./search-highlight";
import { kernelAssist, type EditorAssist } from "./kernel-assist";
import { defaultKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, defaultHighlightStyle, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { minimalSetup } from "codemirror";
import { python } from "@codemirror/lang-python";
import { markdown } from "@codemirror/lang-markdown";

/** Marks a document replacement that came from the `value` prop, not from typing. */
const external = Annotation.define<boolean>();

/** `raw`: a raw cell, plain text with no highlighting (it is never run or rendered). */
export type CellLanguage = "python" | "markdown" | "raw";

/** How a run key was pressed: Shift+Enter moves on, Ctrl/Cmd+Enter stays, Alt+Enter inserts a
 * cell below (as in Jupyter). */
export type RunMode = "advance" | "in-place" | "insert-below";

export interface CellEditorProps {
  value: string;
  language: CellLanguage;
  onChange: (value: string) => void;
  onRun?: (mode: RunMode) => void;
  onEscape?: () => void;
  onFocus?: () => void;
  onBlur?: () => void;
  /** The editor takes focus each time this changes to a new non-zero value — never on its own, so
   * outputs re-rendering a page cannot pull focus out of another cell. */
  focusToken?: number;
  placeholder?: string;
  ariaLabel?: string;
  /** Shown and selectable but not editable (the user may not edit the notebook). */
  readOnly?: boolean;
  /** Find in the notebook: every match of `searchPattern` is marked, `currentMatch` more so. */
  searchPattern?: RegExp | null;
  currentMatch?: SearchMatch | null;
  /** Tab completion and Shift+Tab inspection; without it Tab and Shift+Tab only indent. */
  assist?: EditorAssist;
  /** A shared document binding (y-codemirror.next's yCollab with its undo keys), fixed for the
   * editor's life: it then owns the text and its undo, so `value` only seeds the editor and
   * CodeMirror's own history is left out. */
  collab?: Extension;
}

function languageExtension(language: CellLanguage): Extension {
  if (language === "python") return python();
  if (language === "markdown") return [markdown(), EditorView.lineWrapping];
  return [];
}

/** A CodeMirror 6 editor for one cell. The view is created once; later `value` changes are
 * applied only when they differ from what the editor holds (an external change). */
/** Read-only: no caret and no edits (the text can still be selected and copied). */
const editability = (readOnly: boolean): Extension => [EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)];

export function CellEditor(props: CellEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const language = useRef(new Compartment());
  const search = useRef(new Compartment());
  const editable = useRef(new Compartment());
  // Handlers live in a ref so a re-render never rebuilds the editor.
  const handlers = useRef(props);
  handlers.current = props;

  useEffect(() => {
    const run = (mode: RunMode) => () => {
      handlers.current.onRun?.(mode);
      return true;
    };
    const state = EditorState.create({
      doc: handlers.current.value,
      extensions: [
        // Before the run keys: Escape closes a popup or tooltip before it leaves the editor.
        kernelAssist(() => handlers.current.assist),
        Prec.highest(
          keymap.of([
            { key: "Shift-Enter", run: run("advance") },
            { key: "Mod-Enter", run: run("in-place") },
            { key: "Ctrl-Enter", run: run("in-place") },
            { key: "Alt-Enter", run: run("insert-below") },
            { key: "Escape", run: () => (handlers.current.onEscape?.(), true) },
          ]),
        ),
        // minimalSetup is history, undo keys and selection drawing; a shared document brings its
        // own undo (only this person's edits).
        handlers.current.collab
          ? [highlightSpecialChars(), drawSelection(), keymap.of(defaultKeymap), handlers.current.collab]
          : minimalSetup,
        indentOnInput(),
        bracketMatching(),
        indentUnit.of("    "),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        keymap.of([indentWithTab]),
        language.current.of(languageExtension(handlers.current.language)),
        search.current.of(searchHighlight(handlers.current.searchPattern ?? null, handlers.current.currentMatch ?? null)),
        placeholderExt(handlers.current.placeholder ?? ""),
        editable.current.of(editability(handlers.current.readOnly ?? false)),
        EditorView.contentAttributes.of({ "aria-label": handlers.current.ariaLabel ?? "Cell source" }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !update.transactions.some((t) => t.annotation(external)))
            handlers.current.onChange(update.state.doc.toString());
          if (update.focusChanged) (update.view.hasFocus ? handlers.current.onFocus : handlers.current.onBlur)?.();
        }),
      ],
    });
    view.current = new EditorView({ state, parent: host.current! });
    return () => {
      view.current?.destroy();
      view.current = null;
    };
  }, []);

  useEffect(() => {
    const v = view.current;
    if (!v || handlers.current.collab) return;
    const current = v.state.doc.toString();
    if (current !== props.value)
      v.dispatch({
        changes: { from: 0, to: current.length, insert: props.value },
        annotations: [external.of(true), Transaction.addToHistory.of(false)],
      });
  }, [props.value]);

  useEffect(() => {
    view.current?.dispatch({ effects: language.current.reconfigure(languageExtension(props.language)) });
  }, [props.language]);

  useEffect(() => {
    view.current?.dispatch({
      effects: search.current.reconfigure(searchHighlight(props.searchPattern ?? null, props.currentMatch ?? null)),
    });
  }, [props.searchPattern, props.currentMatch]);

  useEffect(() => {
    view.current?.dispatch({ effects: editable.current.reconfigure(editability(props.readOnly ?? false)) });
  }, [props.readOnly]);

  useEffect(() => {
    if (props.focusToken) view.current?.focus();
  }, [props.focusToken]);

  return <div ref={host} className={`cellar-editor cellar-editor-${props.language}`} />;
}
