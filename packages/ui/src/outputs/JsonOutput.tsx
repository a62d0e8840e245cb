/** @jsxRuntime automatic */
// (The pragma: the gateway renders these under tsx, which applies no tsconfig of this package.)
import { memo } from "react";
import { JSONTree } from "react-json-tree";

// A light base16 palette close to JupyterLab's JSON viewer (the library's default is dark).
const LIGHT_THEME = {
  scheme: "cellar-light",
  author: "cellar",
  base00: "transparent",
  base01: "#f6f8fa",
  base02: "#d0d7de",
  base03: "#6e7781",
  base04: "#57606a",
  base05: "#1f2328",
  base06: "#1f2328",
  base07: "#1f2328",
  base08: "#cf222e",
  base09: "#0550ae",
  base0A: "#953800",
  base0B: "#0a3069",
  base0C: "#0550ae",
  base0D: "#8250df",
  base0E: "#cf222e",
  base0F: "#953800",
};

export interface JsonOutputProps {
  data: unknown;
  /** IPython's `JSON(..., expanded=True)` asks for every level open. */
  expanded?: boolean;
}

/** application/json as a collapsible tree: the top level open, deeper levels one click away. */
export const JsonOutput = memo(function JsonOutput({ data, expanded = false }: JsonOutputProps) {
  return (
    <div className="cellar-output-json" data-testid="output-json">
      <JSONTree
        data={data}
        theme={LIGHT_THEME}
        invertTheme={false}
        hideRoot={isContainer(data)}
        shouldExpandNodeInitially={(_keyPath, _data, level) => expanded || level < 1}
        collectionLimit={100}
      />
    </div>
  );
});

function isContainer(value: unknown): boolean {
  return typeof value === "object" && value !== null;
}
