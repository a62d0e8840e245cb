// A container's environment as the kubelet builds it: envFrom first, then env in order, each
// `$(NAME)` in a value expanded from what is defined before it. Values come from the ConfigMaps
// and Secrets among the manifests; a missing one is a problem, not a silent empty string.
import type { Manifest } from "./manifests";

export interface ContainerEnv {
  env: Record<string, string>;
  /** Names set through `env` (not envFrom) whose only use is a later value's `$(NAME)`. */
  referenced: Set<string>;
  problems: string[];
}

// biome-ignore lint/suspicious/noExplicitAny: a container spec as parsed from YAML, already schema-checked.
type Container = any;

/** Stand-in values for the downward API, which only a running pod has. */
const FIELD_VALUES: Record<string, string> = { "spec.nodeName": "node-1", "metadata.name": "pod-1", "status.podIP": "10.0.0.1" };

export function containerEnv(container: Container, manifests: Manifest[], namespace: string): ContainerEnv {
  const env: Record<string, string> = {};
  const referenced = new Set<string>();
  const problems: string[] = [];
  const find = (kind: string, name: string) =>
    manifests.find((m) => m.kind === kind && m.metadata.name === name && m.metadata.namespace === namespace);
  const secretData = (name: string): Record<string, string> | undefined => {
    const s = find("Secret", name);
    if (!s) return undefined;
    const decoded = Object.fromEntries(
      Object.entries((s.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
    );
    return { ...decoded, ...(s.stringData ?? {}) };
  };
  const configData = (name: string): Record<string, string> | undefined => find("ConfigMap", name)?.data;

  for (const from of container.envFrom ?? []) {
    const name = from.configMapRef?.name ?? from.secretRef?.name;
    const data = from.configMapRef ? configData(name) : secretData(name);
    if (!data) problems.push(`envFrom ${from.configMapRef ? "ConfigMap" : "Secret"} ${name} does not exist`);
    Object.assign(env, data ?? {});
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole: string, ref: string) => {
        if (!(ref in env)) {
          problems.push(`${e.name} refers to $(${ref}), which is not defined before it (Kubernetes would leave "${whole}" as is)`);
          return whole;
        }
        referenced.add(ref);
        return env[ref]!;
      });
      continue;
    }
    const ref = e.valueFrom ?? {};
    let value: string | undefined;
    if (ref.secretKeyRef) value = secretData(ref.secretKeyRef.name)?.[ref.secretKeyRef.key];
    else if (ref.configMapKeyRef) value = configData(ref.configMapKeyRef.name)?.[ref.configMapKeyRef.key];
    else if (ref.fieldRef) value = FIELD_VALUES[ref.fieldRef.fieldPath];
    if (value === undefined) problems.push(`${e.name}: ${JSON.stringify(ref)} names nothing that exists`);
    else env[e.name] = value;
  }
  return { env, referenced, problems };
}
