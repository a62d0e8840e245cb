/** @jsxRuntime automatic */
// (The pragma: the gateway renders these under tsx, which applies no tsconfig of this package.)
import { memo, useMemo } from "react";
import type { MimeBundle } from "@cellar/protocol";
import { AnsiText } from "./AnsiText";
import { FrameOutput, useOutputFrames, useWidgetHub } from "./FrameOutput";
import { bundleText, chooseMimeType, needsFrame } from "./mime";
import { JsonOutput } from "./JsonOutput";
import { renderLatex, renderMarkdown, sanitizeHtml, sanitizeSvg } from "./sanitize";

export interface MimeBundleOutputProps {
  data: MimeBundle;
  metadata?: Record<string, unknown>;
}

/** One display_data / execute_result: the richest type that can be shown here. Where output
 * frames exist (OutputFrameProvider), code-running types go to a sandboxed frame; elsewhere
 * their static alternative is shown, and HTML with scripts is sanitised like any other. */
export const MimeBundleOutput = memo(function MimeBundleOutput({ data, metadata = {} }: MimeBundleOutputProps) {
  const frames = useOutputFrames() !== null;
  const widgets = useWidgetHub() !== null;
  const mime = chooseMimeType(data, { frames, widgets });
  if (!mime) {
    const types = Object.keys(data).join(", ") || "nothing";
    return <div className="cellar-output-note">This output cannot be shown here ({types}).</div>;
  }
  const text = bundleText(data[mime]);
  if (frames && needsFrame(mime, text))
    return (
      <FrameOutput
        mime={mime}
        data={mime === "text/html" || mime === "application/javascript" ? text : data[mime]}
        metadata={metadata[mime] ?? {}}
      />
    );
  switch (mime) {
    case "image/png":
    case "image/jpeg":
    case "image/gif":
      return <ImageOutput mime={mime} base64={text} metadata={metadata[mime]} alt={bundleText(data["text/plain"] ?? "")} />;
    case "image/svg+xml":
      return <SanitizedHtml className="cellar-output-svg" testId="output-svg" html={text} sanitize={sanitizeSvg} />;
    case "text/html":
      return <SanitizedHtml className="cellar-output-html" testId="output-html" html={text} sanitize={sanitizeHtml} />;
    case "text/markdown":
      return (
        <SanitizedHtml className="cellar-markdown cellar-output-markdown" testId="output-markdown" html={text} sanitize={renderMarkdown} />
      );
    case "text/latex":
      return <SanitizedHtml className="cellar-output-latex" testId="output-latex" html={text} sanitize={renderLatex} />;
    case "application/json":
      return (
        <JsonOutput data={parseJson(data[mime])} expanded={Boolean((metadata[mime] as { expanded?: unknown } | undefined)?.expanded)} />
      );
    case "text/plain":
      return <AnsiText text={text} className="cellar-output-text" testId="output-text" />;
    default:
      // A frame type without frames: chooseMimeType does not pick one.
      return null;
  }
});

/** nbformat stores JSON as a value; some writers store it as a string of JSON. */
function parseJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function ImageOutput({ mime, base64, metadata, alt }: { mime: string; base64: string; metadata: unknown; alt: string }) {
  const size = (metadata ?? {}) as { width?: number; height?: number };
  // Kernels wrap base64 at 76 columns; a data: URL must not contain the newlines.
  const src = `data:${mime};base64,${base64.replace(/\s+/g, "")}`;
  return (
    <img
      className="cellar-output-image"
      data-testid="output-image"
      src={src}
      alt={alt || "output image"}
      width={typeof size.width === "number" ? size.width : undefined}
      height={typeof size.height === "number" ? size.height : undefined}
    />
  );
}

function SanitizedHtml({
  html,
  sanitize,
  className,
  testId,
}: {
  html: string;
  sanitize: (s: string) => string;
  className: string;
  testId: string;
}) {
  const clean = useMemo(() => sanitize(html), [html, sanitize]);
  // biome-ignore lint/security/noDangerouslySetInnerHtml: the HTML has just been through the caller's sanitiser
  return <div className={className} data-testid={testId} dangerouslySetInnerHTML={{ __html: clean }} />;
}
