// Marks find-in-notebook matches inside one cell's editor. MatchDecorator keeps the marks right
// as the user types, without re-scanning the whole document on every keystroke.
import type { Extension } from "@codemirror/state";
import { Decoration, type EditorView, MatchDecorator, ViewPlugin, type DecorationSet, type ViewUpdate } from "@codemirror/view";

export interface SearchMatch {
  from: number;
  to: number;
}

const match = Decoration.mark({ class: "cellar-search-match" });
const current = Decoration.mark({ class: "cellar-search-match cellar-search-current" });

export function searchHighlight(pattern: RegExp | null, currentMatch: SearchMatch | null): Extension {
  if (!pattern) return [];
  // MatchDecorator needs a global regexp; a fresh copy so its lastIndex is ours alone.
  const regexp = new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g");
  const decorator = new MatchDecorator({
    regexp,
    decoration: (m, _view, pos) => (currentMatch && pos === currentMatch.from && pos + m[0].length === currentMatch.to ? current : match),
  });
  const plugin = ViewPlugin.fromClass(
    class {
      decorations: DecorationSet;
      constructor(view: EditorView) {
        this.decorations = decorator.createDeco(view);
      }
      update(update: ViewUpdate) {
        this.decorations = decorator.updateDeco(update, this.decorations);
      }
    },
    { decorations: (v) => v.decorations },
  );
  return plugin;
}
