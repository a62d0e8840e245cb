import { memo } from "react";
import { TRUNCATION_NOTE_KEY, type Output } from "@cellar/protocol";
import { AnsiText } from "./AnsiText";
import { MimeBundleOutput } from "./MimeBundleOutput";
import { bundleText } from "./mime";

export interface OutputAreaProps {
  outputs: Output[];
}

/** Everything one code cell printed or displayed, in order. Always rendered (empty when there is
 * nothing) so a page can wait on it. */
export const OutputArea = memo(function OutputArea({ outputs }: OutputAreaProps) {
  return (
    <div className="cellar-outputs" data-testid="cell-output">
      {outputs.map((output, i) => (
        <OutputView key={i} output={output} />
      ))}
    </div>
  );
});

export const OutputView = memo(function OutputView({ output }: { output: Output }) {
  switch (output.output_type) {
    case "stream":
      return (
        <div className={`cellar-output cellar-output-stream cellar-output-${output.name}`}>
          <AnsiText text={output.text} testId="output-stream" followTail />
        </div>
      );
    case "error":
      return <ErrorOutput ename={output.ename} evalue={output.evalue} traceback={output.traceback} />;
    case "display_data":
    case "execute_result":
      if (output.metadata?.[TRUNCATION_NOTE_KEY]) return <TruncationNotice text={bundleText(output.data["text/plain"] ?? "")} />;
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
