// What the user typed at an input() prompt, shown in the cell's output as Jupyter does (prompt
// and answer, a password hidden). Made here rather than in a browser so it is recorded with the
// cell's other outputs and every tab showing the notebook sees it.
import { parentIdOf } from "@cellar/kernel-client";
import { hasMsgType, makeMessage, type JupyterMessage } from "@cellar/protocol";

const HIDDEN = "········";

export class InputEcho {
  /** The prompt the kernel is waiting on; one at a time, as a kernel runs one cell at a time. */
  private waiting: JupyterMessage<"input_request"> | null = null;

  fromKernel(msg: JupyterMessage): void {
    if (hasMsgType(msg, "input_request")) this.waiting = msg;
  }

  /** The echo for a browser's answer to the waiting prompt; null for anything else (a second
   * tab answering the same prompt, an answer to a prompt an interrupt already ended). */
  answer(msg: JupyterMessage): JupyterMessage | null {
    const request = this.waiting;
    if (!hasMsgType(msg, "input_reply") || !request || parentIdOf(msg) !== request.header.msg_id) return null;
    this.waiting = null;
    const { prompt, password } = request.content;
    const value = String(msg.content.value ?? "");
    const echo = makeMessage(
      "stream",
      { name: "stdout", text: `${String(prompt ?? "")}${password === true ? HIDDEN : value}\n` },
      { channel: "iopub" },
    );
    // Parented like the prompt (to the cell's execute_request), so it lands in that cell.
    echo.parent_header = request.parent_header;
    return echo;
  }
}
