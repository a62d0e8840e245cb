import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { freePort } from "./engines/free-port";
import { Supervisor, type Service } from "./supervisor";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const entry = "scripts/testing/fixture-service.ts";
const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("Supervisor", () => {
  it("starts a killed service again, and a stopped one never", async () => {
    const port = await freePort();
    const supervisor = new Supervisor({ root, log: () => {} });
    const service = supervisor.start({
      name: "svc",
      entry,
      env: { ...process.env, CELLAR_FIXTURE_MODE: "serve", CELLAR_FIXTURE_PORT: String(port) },
      healthUrl: `http://127.0.0.1:${port}/`,
      restartDelayMs: 50,
    });
    await service.whenHealthy(20_000);
    const first = service.pid!;
    service.kill();
    await until(() => service.pid !== undefined && service.pid !== first);
    await service.whenHealthy(20_000);
    expect(service.starts).toBe(2);
    await service.restart();
    await service.whenHealthy(20_000);
    expect(service.starts).toBe(3);
    const last = service.pid!;
    await supervisor.stopAll();
    expect(alive(last)).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(service.pid).toBeUndefined();
  });

  it("gives up on a service that keeps exiting before it ever answered", async () => {
    const gaveUp: Array<[string, number | null]> = [];
    const supervisor = new Supervisor({ root, log: () => {}, onGiveUp: (s: Service, code) => gaveUp.push([s.name, code]) });
    const service = supervisor.start({
      name: "broken",
      entry,
      env: { ...process.env, CELLAR_FIXTURE_MODE: "exit" },
      healthUrl: "http://127.0.0.1:9/",
      restartDelayMs: 10,
      maxFailedStarts: 3,
    });
    await expect(service.whenHealthy(20_000)).rejects.toThrow(/exited 3 times in a row before it served/);
    expect(gaveUp).toEqual([["broken", 3]]);
    expect(service.starts).toBe(3);
  });

  it("in its own process group, stop() leaves nothing of the group behind", async () => {
    const port = await freePort();
    const pidFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cellar-supervisor-")), "child.pid");
    const supervisor = new Supervisor({ root, ownProcessGroups: true, log: () => {} });
    const service = supervisor.start({
      name: "group",
      entry,
      env: { ...process.env, CELLAR_FIXTURE_MODE: "serve", CELLAR_FIXTURE_PORT: String(port), CELLAR_FIXTURE_CHILD_PID_FILE: pidFile },
      healthUrl: `http://127.0.0.1:${port}/`,
      restartDelayMs: 50,
    });
    await service.whenHealthy(20_000);
    const grandchild = Number(fs.readFileSync(pidFile, "utf8"));
    expect(alive(grandchild)).toBe(true);
    await service.stop();
    await until(() => !alive(grandchild));
    fs.rmSync(path.dirname(pidFile), { recursive: true, force: true });
  });
});
