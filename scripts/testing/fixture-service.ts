// A stand-in service for supervisor.test.ts, steered by its environment:
// CELLAR_FIXTURE_MODE=serve answers GET / on CELLAR_FIXTURE_PORT (and starts a `sleep` child in its process
// group when CELLAR_FIXTURE_CHILD_PID_FILE is set, writing the child's pid there); CELLAR_FIXTURE_MODE=exit
// exits with status 3 at once.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";

const env = process.env;
if (env.CELLAR_FIXTURE_MODE === "exit") process.exit(3);
const pidFile = env.CELLAR_FIXTURE_CHILD_PID_FILE;
if (pidFile) {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  fs.writeFileSync(pidFile, String(child.pid));
}
http.createServer((_req, res) => res.end("ok")).listen(Number(env.CELLAR_FIXTURE_PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
