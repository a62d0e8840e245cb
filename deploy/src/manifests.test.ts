// The Kubernetes manifests, checked against the Kubernetes schemas and against the apps they run:
// probes on paths and ports the apps really serve, env vars the apps really read, secrets that are
// placeholders, and the shape the issue asks for (3 gateways, privileged workers, GPUs).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadConfig as loadGatewayConfig } from "../../apps/kernel-gateway/src/config";
import { loadConfig as loadWorkerConfig } from "../../apps/worker/src/config";
import { WORKER_HEALTH_PATHS } from "../../apps/worker/src/health/health-server";
import { defaultDatabaseUrl } from "../../packages/db/src/url";
import { storeSettingsFromEnv } from "../../packages/fs-client/src/store/open-store";
import { apiRoutes } from "../../packages/protocol/src/http/routes";
import { containerEnv } from "./container-env";
import { envReadBy } from "./env-reads";
import { kustomizationResources, loadManifests, MANIFESTS_DIR, type Manifest } from "./manifests";

const manifests = loadManifests();
const one = (kind: string, name: string): Manifest => {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name === name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0]!;
};
const gateway = one("Deployment", "cellar-gateway");
const workers = [one("DaemonSet", "cellar-worker"), one("DaemonSet", "cellar-worker-gpu")];
const workloads = [gateway, ...workers];

/** What each app's container may set: what its loaders read, and what libraries under them read. */
const GATEWAY_READS = new Set([
  ...envReadBy(loadGatewayConfig),
  ...envReadBy(defaultDatabaseUrl), // @cellar/db: DATABASE_URL
  ...envReadBy((env) => storeSettingsFromEnv(env, "/cas")), // @cellar/fs-client: CELLAR_S3_*
  // The AWS SDK's default credential chain, which openBlobStore leaves the S3 client to.
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
]);
const WORKER_READS = envReadBy(loadWorkerConfig);
/** Set ahead of the code that will read them (issue 12's other slices). Remove a name once it is read. */
const NOT_YET_READ: Record<string, string> = {};

const podSpec = (w: Manifest) => w.spec.template.spec;
const mainContainer = (w: Manifest) => {
  expect(podSpec(w).containers, w.metadata.name).toHaveLength(1);
  return podSpec(w).containers[0];
};
const envOf = (w: Manifest) => containerEnv(mainContainer(w), manifests, w.metadata.namespace!);

describe("deploy/kubernetes", () => {
  it("lists every YAML file in kustomization.yaml, and each object passes its kind's schema", () => {
    const files = fs.readdirSync(MANIFESTS_DIR).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml");
    expect(kustomizationResources().sort()).toEqual(files.sort());
    expect(manifests.map((m) => m.kind).sort()).toEqual(
      [
        "ConfigMap",
        "ConfigMap",
        "DaemonSet",
        "DaemonSet",
        "Deployment",
        "Ingress",
        "Namespace",
        "PodDisruptionBudget",
        "Secret",
        "Service",
      ].sort(),
    );
  });

  it("refuses what the schemas refuse (the check is not a no-op)", () => {
    const bad = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-manifests-"));
    try {
      fs.writeFileSync(`${bad}/kustomization.yaml`, "kind: Kustomization\nresources: [a.yaml]\n");
      fs.writeFileSync(`${bad}/a.yaml`, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: three}\n");
      expect(() => loadManifests(bad)).toThrow(/a\.yaml: Deployment x: .*replicas must be integer/);
      fs.writeFileSync(`${bad}/a.yaml`, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n");
      expect(() => loadManifests(bad)).toThrow(/unknown kind example\.com\/v1\/Widget/);
    } finally {
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });

  it("renders with kustomize to exactly these objects, where kubectl is installed", (ctx) => {
    const kubectl = spawnSync("kubectl", ["kustomize", MANIFESTS_DIR], { encoding: "utf8" });
    if (kubectl.error) return ctx.skip(); // no kubectl here: the files are still checked above
    expect(kubectl.status, kubectl.stderr).toBe(0);
    const rendered = parseAllDocuments(kubectl.stdout) as ReturnType<typeof parseAllDocuments> & unknown[];
    const key = (m: { kind: string; metadata: { name: string } }) => `${m.kind}/${m.metadata.name}`;
    const byKey = new Map(manifests.map(({ file: _file, ...m }) => [key(m), m]));
    const objects = (rendered as Array<{ toJS(): Manifest }>).map((d) => d.toJS());
    expect(objects.map(key).sort()).toEqual([...byKey.keys()].sort());
    for (const o of objects) expect(o, key(o)).toEqual(byKey.get(key(o)));
    // kustomize applies the Namespace first, which a plain `kubectl apply -f dir` would not.
    expect(key(objects[0]!)).toBe("Namespace/cellar");
  });

  it("puts everything in the cellar namespace", () => {
    one("Namespace", "cellar");
    for (const m of manifests.filter((m) => m.kind !== "Namespace"))
      expect(m.metadata.namespace, `${m.kind} ${m.metadata.name}`).toBe("cellar");
  });

  it("runs three gateway replicas, kept at two or more through disruptions", () => {
    expect(gateway.spec.replicas).toBe(3);
    expect(one("PodDisruptionBudget", "cellar-gateway").spec.minAvailable).toBe(2);
  });

  it("probes the gateway on the route table's health and readiness routes, on the port it listens on", () => {
    const c = mainContainer(gateway);
    const port = loadGatewayConfig(envOf(gateway).env).port;
    expect(c.ports).toEqual([{ name: "http", containerPort: port }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: apiRoutes.health.url, port: "http" });
    expect(c.startupProbe.httpGet).toEqual({ path: apiRoutes.health.url, port: "http" });
    expect(c.readinessProbe.httpGet).toEqual({ path: apiRoutes.ready.url, port: "http" });
    // The gateway's own database ping gives up after 2 s: the probe must wait longer than that.
    expect(c.readinessProbe.timeoutSeconds).toBeGreaterThan(2);
    expect(loadGatewayConfig(envOf(gateway).env).host).toBe("0.0.0.0");
  });

  it("probes each worker on the health server's paths, on CELLAR_WORKER_HEALTH_PORT, and opens its move server's port", () => {
    for (const w of workers) {
      const c = mainContainer(w);
      const config = loadWorkerConfig(envOf(w).env);
      const port = config.healthPort;
      expect(port, w.metadata.name).toBeDefined();
      expect(config.movePort, w.metadata.name).toBeGreaterThan(0);
      expect(c.ports).toEqual([
        { name: "health", containerPort: port },
        { name: "moves", containerPort: config.movePort },
      ]);
      expect(c.livenessProbe.httpGet).toEqual({ path: WORKER_HEALTH_PATHS.live, port: "health" });
      expect(c.readinessProbe.httpGet).toEqual({ path: WORKER_HEALTH_PATHS.ready, port: "health" });
    }
  });

  it("sets only env vars the apps read, each from a ConfigMap or Secret that has it", () => {
    for (const [w, reads] of [
      [gateway, GATEWAY_READS],
      [workers[0], WORKER_READS],
      [workers[1], WORKER_READS],
    ] as const) {
      const { env, referenced, problems } = envOf(w);
      expect(problems, w.metadata.name).toEqual([]);
      const unread = Object.keys(env).filter((name) => !reads.has(name) && !referenced.has(name) && !(name in NOT_YET_READ));
      expect(unread, `${w.metadata.name} sets variables nothing reads`).toEqual([]);
    }
    // The gateway reaches PostgreSQL with the Secret's password in the URL.
    expect(envOf(gateway).env.DATABASE_URL).toBe("postgresql://cellar:CHANGE-ME-db-password@postgres.cellar.svc.cluster.local:5432/cellar");
  });

  it("keeps NOT_YET_READ honest: each name there is set, and still read by nothing", () => {
    for (const name of Object.keys(NOT_YET_READ)) {
      expect(GATEWAY_READS.has(name) || WORKER_READS.has(name), `${name} is read now: drop it from NOT_YET_READ`).toBe(false);
      expect(
        workloads.some((w) => name in envOf(w).env),
        `${name} is set by no container`,
      ).toBe(true);
    }
  });

  it("loads each app's settings from its container's environment", () => {
    const gw = loadGatewayConfig(envOf(gateway).env);
    expect(gw.token).toBe("CHANGE-ME-gateway-token");
    expect(storeSettingsFromEnv(envOf(gateway).env, gw.casDir).s3?.bucket).toBeTruthy();
    for (const w of workers) {
      const cfg = loadWorkerConfig(envOf(w).env);
      expect(cfg.secret).toBe(gw.workerSecret);
      expect(new URL(cfg.gatewayUrl).port).toBe(String(gw.port));
      expect(cfg.workerId).toBe("node-1"); // the node's name
    }
  });

  it("ships only clearly marked placeholder secrets", () => {
    const secret = one("Secret", "cellar-secrets");
    expect(secret.data).toBeUndefined();
    const values = Object.entries(secret.stringData as Record<string, string>);
    expect(values.length).toBeGreaterThan(0);
    for (const [key, value] of values) expect(value, key).toMatch(/^CHANGE-ME-/);
  });

  it("reaches the gateway through a Service and Ingress that select its pods and name its port", () => {
    const service = one("Service", "cellar-gateway");
    expect(gateway.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(gateway.spec.selector.matchLabels).toEqual(service.spec.selector);
    expect(service.spec.ports).toEqual([{ name: "http", port: 8800, targetPort: "http" }]);
    // socket.io's polling transport needs every request of a connection on one replica.
    expect(service.spec.sessionAffinity).toBe("ClientIP");
    const backend = one("Ingress", "cellar-gateway").spec.rules[0].http.paths[0].backend.service;
    expect(backend).toEqual({ name: service.metadata.name, port: { name: "http" } });
    // The workers dial that Service.
    const url = new URL(loadWorkerConfig(envOf(workers[0]!).env).gatewayUrl);
    expect(url.hostname).toBe(`${service.metadata.name}.cellar.svc.cluster.local`);
    expect(Number(url.port)).toBe(service.spec.ports[0].port);
  });

  it("gives every container resource requests and a memory limit", () => {
    for (const w of workloads) {
      const { requests, limits } = mainContainer(w).resources;
      expect(requests, w.metadata.name).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(limits, w.metadata.name).toMatchObject({ memory: expect.any(String) });
    }
  });

  it("runs workers privileged with /dev/fuse and host directories where their settings point", () => {
    for (const w of workers) {
      const c = mainContainer(w);
      expect(c.securityContext.privileged, w.metadata.name).toBe(true);
      const volumes = new Map(podSpec(w).volumes.map((v: { name: string }) => [v.name, v]));
      const hostPathAt = (mountPath: string) => {
        const mount = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === mountPath);
        expect(mount, `${w.metadata.name} mounts ${mountPath}`).toBeDefined();
        return (volumes.get(mount.name) as { hostPath?: { path: string; type: string } }).hostPath;
      };
      const cfg = loadWorkerConfig(envOf(w).env);
      expect(hostPathAt("/dev/fuse")).toEqual({ path: "/dev/fuse", type: "CharDevice" });
      expect(hostPathAt(cfg.home)?.path).toBe(cfg.home);
      expect(hostPathAt(cfg.cacheDir)?.path).toBe(cfg.cacheDir);
      // Idle kernels are checkpointed on SIGTERM: the pod must be given longer than busy ones' grace.
      expect(podSpec(w).terminationGracePeriodSeconds * 1000).toBeGreaterThan(cfg.shutdownGraceMs);
    }
  });

  it("runs the gateway unprivileged, unable to gain privileges", () => {
    const sc = mainContainer(gateway).securityContext;
    expect(sc.privileged ?? false).toBe(false);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.capabilities.drop).toEqual(["ALL"]);
  });

  it("requests all of a GPU node's GPUs on the GPU DaemonSet only, and keeps the CPU one off GPU nodes", () => {
    const [cpu, gpu] = workers as [Manifest, Manifest];
    const count = podSpec(gpu).nodeSelector["nvidia.com/gpu.count"];
    expect(podSpec(gpu).nodeSelector["nvidia.com/gpu.present"]).toBe("true");
    expect(mainContainer(gpu).resources.limits["nvidia.com/gpu"]).toBe(Number(count));
    expect(mainContainer(gpu).resources.requests["nvidia.com/gpu"]).toBe(Number(count));
    expect(mainContainer(cpu).resources.limits["nvidia.com/gpu"]).toBeUndefined();
    expect(podSpec(cpu).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: "nvidia.com/gpu.present", operator: "DoesNotExist" }] },
    ]);
  });

  it("keeps the two worker DaemonSets alike but for placement and resources", () => {
    const strip = (w: Manifest) => {
      const { file: _file, ...copy } = structuredClone(w);
      copy.metadata.name = "";
      for (const labels of [copy.metadata.labels, copy.spec.selector.matchLabels, copy.spec.template.metadata.labels])
        delete labels["cellar.dev/worker-variant"];
      const spec = copy.spec.template.spec;
      delete spec.affinity;
      delete spec.nodeSelector;
      delete spec.tolerations;
      // GPU nodes are sized differently: their requests and limits may differ too.
      delete spec.containers[0].resources;
      return copy;
    };
    expect(strip(workers[1]!)).toEqual(strip(workers[0]!));
  });
});
