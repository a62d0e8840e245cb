// A gateway replica in a process of its own, for tests that must kill one hard (SIGKILL: no
// graceful close, nothing stored on the way out). argv: databaseUrl home port redisUrl token
// workerSecret [schedules[:leaseMs]]. Prints "ready <port>" once it listens.
import { openDatabase } from "@cellar/db";
import { createTestGateway, testGatewayConfig } from "./test-gateway";

const [databaseUrl, home, port, redisUrl, token, workerSecret, schedules] = process.argv.slice(2);
const db = await openDatabase(databaseUrl, { log: () => {} });
const gateway = createTestGateway({
  db,
  config: testGatewayConfig({ home, port: Number(port), redisUrl }),
  token,
  workerSecret,
  schedules: schedules?.startsWith("schedules"),
  leaseMs: schedules?.includes(":") ? Number(schedules.split(":")[1]) : undefined,
});
const { port: listening } = await gateway.listen();
console.log(`ready ${listening}`);
process.on("SIGTERM", () => void gateway.close().finally(() => process.exit(0)));
