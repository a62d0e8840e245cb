// Reads deploy/kubernetes/ as kubectl would: every YAML document of every file the kustomization
// lists, each checked against the Kubernetes schema of its kind (kubernetes-models).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DaemonSet, Deployment } from "kubernetes-models/apps/v1";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";

export const MANIFESTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../kubernetes");

/** The kinds these manifests may use; anything else is refused rather than left unchecked. */
const MODELS = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "apps/v1/DaemonSet": DaemonSet,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/Ingress": Ingress,
} as const;

export interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: the rest is whatever the kind's schema allows, checked by validate().
  [field: string]: any;
}

/** The file names kustomization.yaml lists, in its order. */
export function kustomizationResources(dir = MANIFESTS_DIR): string[] {
  const [doc] = parseFile(path.join(dir, "kustomization.yaml"));
  const k = doc as { kind?: string; resources?: unknown };
  if (k?.kind !== "Kustomization" || !Array.isArray(k.resources)) throw new Error("kustomization.yaml: no resources list");
  return k.resources as string[];
}

/** Every document of every listed file, validated; throws naming the file and object. */
export function loadManifests(dir = MANIFESTS_DIR): Manifest[] {
  return kustomizationResources(dir).flatMap((file) =>
    parseFile(path.join(dir, file)).map((doc) => {
      const m = doc as Manifest;
      const where = `${file}: ${m?.kind ?? "?"} ${m?.metadata?.name ?? "?"}`;
      const Model = MODELS[`${m?.apiVersion}/${m?.kind}` as keyof typeof MODELS];
      if (!Model) throw new Error(`${where}: unknown kind ${m?.apiVersion}/${m?.kind} (add its model to MODELS in manifests.ts)`);
      try {
        new Model(doc as never).validate();
      } catch (err) {
        throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
      }
      return { ...m, file };
    }),
  );
}

function parseFile(file: string): unknown[] {
  const docs = parseAllDocuments(fs.readFileSync(file, "utf8"));
  if (!Array.isArray(docs)) throw new Error(`${file}: not YAML documents`);
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
  return docs.map((d) => d.toJS()).filter((d) => d !== null);
}
