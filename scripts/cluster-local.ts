// `npm run cluster`: the scaled-out layout on this one machine (PostgreSQL, Redis, an S3 server,
// gateway replicas behind HAProxy, workers), until Ctrl-C, which stops all of it. See
// cluster/start-cluster.ts; scripts/cluster-local.sh installs and builds what it needs first.
//   --replicas N (CELLAR_CLUSTER_REPLICAS, default 3)  --workers N (CELLAR_CLUSTER_WORKERS, default 2)
//   --port N (CELLAR_CLUSTER_PORT, default 8900)       --dir DIR (CELLAR_CLUSTER_DIR, default .cellar/cluster)
//   --info FILE: once it is up, write where everything is there as JSON (what a test that drives
//   the cluster from another process reads); CELLAR_TOKEN fixes the token.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { type Cluster, startCluster } from "./cluster/start-cluster";

const env = process.env;
const { values } = parseArgs({
  options: {
    replicas: { type: "string", default: env.CELLAR_CLUSTER_REPLICAS },
    workers: { type: "string", default: env.CELLAR_CLUSTER_WORKERS },
    port: { type: "string", default: env.CELLAR_CLUSTER_PORT },
    dir: { type: "string", default: env.CELLAR_CLUSTER_DIR },
    info: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log("usage: npm run cluster -- [--replicas N] [--workers N] [--port N] [--dir DIR] [--info FILE]");
  process.exit(0);
}

function count(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`cluster: --${name} must be a whole number, ${min} or more, not "${raw}"`);
    process.exit(2);
  }
  return n;
}

let cluster: Cluster | undefined;
let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("cluster: stopping workers, gateways, HAProxy and the engines…");
  await cluster?.stop();
  process.exit(code);
}
let interrupts = 0;
let firstInterruptAt = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // While it starts, the stop waits for the start to end; a second Ctrl-C leaves at once (the
    // next start stops whatever this one left). Under `npm run`, one Ctrl-C arrives twice (from
    // the terminal and forwarded by npm): a repeat within a second is the same one.
    if (interrupts > 0 && Date.now() - firstInterruptAt < 1000) return;
    if (++interrupts > 1) process.exit(130);
    firstInterruptAt = Date.now();
    if (cluster) void stop(0);
    else console.log("cluster: stopping once the start has gone far enough to be stopped… (Ctrl-C again to leave now)");
  });
}

try {
  cluster = await startCluster({
    replicas: count("replicas", values.replicas, 1),
    workers: count("workers", values.workers, 0),
    port: count("port", values.port, 1),
    dir: values.dir,
    token: env.CELLAR_TOKEN || undefined,
  });
} catch (error) {
  console.error(`cluster: ${(error as Error).message}`);
  process.exit(1);
}
if (interrupts > 0) await stop(0);
const c = cluster;
if (values.info) {
  const info = {
    url: c.url,
    token: c.token,
    dir: c.dir,
    gateways: c.gateways.map((g) => ({ name: g.name, url: g.url, port: g.port, home: path.join(c.dir, g.name) })),
    workers: c.workers.map((w) => ({ id: w.id, name: w.name })),
    postgres: c.engines.postgres.url,
  };
  // Whole or not at all: the reader polls for it.
  fs.writeFileSync(`${values.info}.tmp`, JSON.stringify(info, null, 2));
  fs.renameSync(`${values.info}.tmp`, values.info);
}
console.log(`
  Cellar cluster is running: ${c.url}/?token=${c.token}

  HAProxy ${c.url} → ${c.gateways.map((g) => `${g.name} ${g.url}`).join(", ")}
  workers ${c.workers.map((w) => w.id).join(", ") || "none"} → ${c.url}
  PostgreSQL ${c.engines.postgres.url} · Redis ${c.engines.redis.url} · S3 ${c.engines.s3.endpoint}/${c.engines.s3.bucket}
  state and logs in ${path.relative(process.cwd(), c.dir) || c.dir}; Ctrl-C stops everything
`);
