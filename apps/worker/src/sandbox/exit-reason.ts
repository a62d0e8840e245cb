// Turns how `runsc run` ended into a sentence for the notebook user.
import { constants } from "node:os";

const signalNames = new Map(Object.entries(constants.signals).map(([name, num]) => [num, name]));

const OUT_OF_MEMORY = /out of memory|cannot allocate memory|ENOMEM|MemoryError|\boom\b/i;

export function describeExit(code: number | null, signal: string | null, stderrTail: string, stopRequested: boolean): string {
  if (stopRequested) return "The kernel was stopped";
  const oomHint = OUT_OF_MEMORY.test(stderrTail.slice(-2000));
  if (signal) {
    if (signal === "SIGKILL" || oomHint) return `The kernel's sandbox was killed (${signal}), most likely because it ran out of memory`;
    return `The kernel's sandbox was killed by ${signal}`;
  }
  // runsc's own failures (bad bundle, missing python3) print this prefix and exit with 128.
  if (code === null || /^running container: /m.test(stderrTail)) return "The kernel's sandbox could not be started";
  if (code === 0) return "The kernel process exited";
  // runsc reports a kernel killed by signal N as exit code 128 + N, like a shell.
  if (code > 128 && code < 128 + 65) {
    const name = signalNames.get(code - 128) ?? `signal ${code - 128}`;
    if (name === "SIGKILL") return "The kernel process was killed, most likely because it ran out of memory";
    return `The kernel process was killed by ${name}`;
  }
  if (oomHint) return `The kernel process ran out of memory and exited with code ${code}`;
  return `The kernel process exited with code ${code}`;
}
