/** @jsxRuntime automatic */
// (The pragma: the gateway renders these under tsx, which applies no tsconfig of this package.)
import { memo } from "react";
import { TRUNCATION_NOTE_KEY, type Output } from "@cellar/protocol";
import { AnsiText, type TextLimits } from "./AnsiText";
import { MimeBundleOutput } from "./MimeBundleOutput";
import { bundleText } from "./mime";
import { isPlacementOutput, PlacementOutput } from "./PlacementOutput";

export interface OutputAreaProps {
  outputs: Output[];
  /** The cell is still running: streams show a shorter tail (STREAMING_LIMITS), since their
   * scroll box shows only the last few lines anyway and each new chunk re-renders it. */
  streaming?: boolean;
}

export const STREAMING_LIMITS: TextLimits = { maxLines: 500, maxChars: 50_000 };

/** Everything one code cell printed or displayed, in order. Always rendered (empty when there is
 * nothing) so a page can wait on it. */
export const OutputArea = memo(function OutputArea({ outputs, streaming = false }: OutputAreaProps) {
  // Where the cell ran is said under everything it printed, wherever the gateway put it.
  const placements = outputs.filter(isPlacementOutput);
  return (
    <div className="cellar-outputs" data-testid="cell-output">
      {outputs.map((output, i) =>
        isPlacementOutput(output) ? null : (
          // biome-ignore lint/suspicious/noArrayIndexKey: outputs have no ids and are only appended or cleared, so an index names one output
          <OutputView key={i} output={output} streaming={streaming} />
        ),
      )}
      {placements.map((output, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: as above
        <OutputView key={`placement-${i}`} output={output} />
      ))}
    </div>
  );
});

export const OutputView = memo(function OutputView({ output, streaming = false }: { output: Output; streaming?: boolean }) {
  switch (output.output_type) {
    case "stream":
      return (
        <div className={`cellar-output cellar-output-stream cellar-output-${output.name}`}>
          <AnsiText text={output.text} testId="output-stream" followTail limits={streaming ? STREAMING_LIMITS : undefined} />
        </div>
      );
    case "error":
      return <ErrorOutput ename={output.ename} evalue={output.evalue} traceback={output.traceback} />;
    case "display_data":
    case "execute_result":
      if (output.metadata?.[TRUNCATION_NOTE_KEY]) return <TruncationNotice text={bundleText(output.data["text/plain"] ?? "")} />;
      if (isPlacementOutput(output)) return <PlacementOutput data={output.data} />;
      return (
        <div className="cellar-output cellar-output-rich">
          <MimeBundleOutput data={output.data} metadata={output.metadata} />
        </div>
      );
  }
});

export function ErrorOutput({ ename, evalue, traceback }: { ename: string; evalue: string; traceback: string[] }) {
  const text = traceback.length ? traceback.join("\n") : `${ename}: ${evalue}`;
  return (
    <div className="cellar-output cellar-output-error">
      <AnsiText text={text} testId="output-error" />
    </div>
  );
}

export function TruncationNotice({ text }: { text: string }) {
  return (
    <div className="cellar-output cellar-output-truncated" data-testid="output-truncated" role="status">
      <span aria-hidden="true">⚠</span> {text || "Output truncated: this cell produced too much output."}
    </div>
  );
}
