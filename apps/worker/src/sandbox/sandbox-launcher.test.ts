// The native launcher every runsc run/restore goes through: it must be transparent (exit code,
// signal, stdio) and reap what its command leaves behind.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { launchCommand } from "./sandbox-launcher";

function launch(script: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  const [command, args] = launchCommand(null, "/bin/sh", ["-c", script]);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout }));
    child.stdin.end("from-stdin\n");
  });
}

describe("cellar-sandbox-launch", () => {
  it("exits as its command did, with the command's stdio", async () => {
    expect(await launch("read line; echo got-$line; exit 3")).toEqual({ code: 3, signal: null, stdout: "got-from-stdin\n" });
    expect(await launch("kill -TERM $$")).toMatchObject({ code: null, signal: "SIGTERM" });
  });

  it("reaps a process its command left running, before it exits itself", async () => {
    // The shell exits at once and leaves `sleep` orphaned; the launcher, its subreaper, reaps it.
    // Without that, the sleep would still run (then linger as init's zombie) after the exit.
    const { code, stdout } = await launch("sleep 0.3 & echo $!");
    expect(code).toBe(0);
    const orphan = Number(stdout.trim());
    expect(orphan).toBeGreaterThan(1);
    expect(existsSync(`/proc/${orphan}`)).toBe(false);
  });
});
