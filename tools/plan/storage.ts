/**
 * Every volume claim of the plan binds: the StorageClass it names exists (or, naming none, exactly
 * one default class does), the class's provisioner is installed by the stack, the provisioner
 * offers the claim's access modes, a class whose volumes live on one node or host waits for the
 * pod before it provisions, and the nodes carry what the provisioner needs of them (the Proxmox CSI
 * plugin: each node's region and its Proxmox host as zone; local-path: the Talos user volume it
 * keeps its directories in, on every worker).
 *
 * The claims are those the plan declares (PersistentVolumeClaims, StatefulSet claim templates,
 * CloudNativePG clusters) and those the charts create from their values (`CHART_CLAIMS`: each
 * chart's values keys at its pinned version).
 */

import {
  STORAGE_DRIVERS,
  DEFAULT_CLASS_ANNOTATION,
  LOCAL_PATH_VOLUME,
} from "../../components/catalog/storage";
import { TOPOLOGY_REGION_LABEL, TOPOLOGY_ZONE_LABEL } from "../../components/catalog/labels";
import { list, rec, type AnalysisPlan, type Obj } from "./analysis";
import { nodeLabelsAndTaints } from "./scheduling";

/** One claim: who makes it, where its class is named, the class and the access modes. */
export interface Claim {
  readonly owner: string;
  readonly path: string;
  readonly className: string | undefined;
  readonly accessModes: readonly string[];
}

const at = (o: unknown, path: readonly string[]): unknown =>
  path.reduce<unknown>((v, k) => rec(v)[k], o);

/**
 * The claims a chart creates from its values: where the claim's spec is, which key names the class
 * and which the access modes (with the chart's defaults), and when it is on.
 */
interface ChartClaim {
  readonly spec: readonly string[];
  readonly classKey: string;
  readonly accessModesDefault: readonly string[];
  /** Whether the chart creates the claim with these values. */
  readonly on: (values: Obj) => boolean;
}

export const CHART_CLAIMS: Readonly<Record<string, readonly ChartClaim[]>> = {
  // kube-prometheus-stack 78.2.1: the operator makes a claim per replica from the storageSpec's
  // volumeClaimTemplate (prometheus.prometheusSpec, alertmanager.alertmanagerSpec.storage); its
  // grafana subchart one from grafana.persistence (storageClassName, accessModes [ReadWriteOnce]).
  "kube-prometheus-stack": [
    {
      spec: ["prometheus", "prometheusSpec", "storageSpec", "volumeClaimTemplate", "spec"],
      classKey: "storageClassName",
      accessModesDefault: ["ReadWriteOnce"],
      on: (v) =>
        at(v, ["prometheus", "prometheusSpec", "storageSpec", "volumeClaimTemplate"]) !== undefined,
    },
    {
      spec: ["alertmanager", "alertmanagerSpec", "storage", "volumeClaimTemplate", "spec"],
      classKey: "storageClassName",
      accessModesDefault: ["ReadWriteOnce"],
      on: (v) =>
        at(v, ["alertmanager", "alertmanagerSpec", "storage", "volumeClaimTemplate"]) !== undefined,
    },
    {
      spec: ["grafana", "persistence"],
      classKey: "storageClassName",
      accessModesDefault: ["ReadWriteOnce"],
      on: (v) => at(v, ["grafana", "persistence", "enabled"]) === true,
    },
  ],
  // loki 6.30.1: the single binary's StatefulSet claims from singleBinary.persistence (enabled by
  // default, storageClass, accessModes [ReadWriteOnce]) while it runs replicas.
  loki: [
    {
      spec: ["singleBinary", "persistence"],
      classKey: "storageClass",
      accessModesDefault: ["ReadWriteOnce"],
      on: (v) =>
        v["deploymentMode"] === "SingleBinary" &&
        Number(at(v, ["singleBinary", "replicas"]) ?? 0) > 0 &&
        at(v, ["singleBinary", "persistence", "enabled"]) !== false,
    },
  ],
};

const modes = (v: unknown, fallback: readonly string[]): string[] => {
  const l = list(v).map(String);
  return l.length > 0 ? l : [...fallback];
};
const className = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" ? v : undefined;

/** Every claim the plan makes, directly or through a chart. */
export function claims(plan: AnalysisPlan): Claim[] {
  const out: Claim[] = [];
  for (const r of plan.resources) {
    const spec = rec(r.inputs["spec"]);
    if (r.type === "kubernetes:apps/v1:StatefulSet") {
      list(spec["volumeClaimTemplates"]).forEach((t, i) => {
        const s = rec(rec(t)["spec"]);
        out.push({
          owner: r.name,
          path: `spec.volumeClaimTemplates[${i}].spec.storageClassName`,
          className: className(s["storageClassName"]),
          accessModes: modes(s["accessModes"], []),
        });
      });
    } else if (r.type === "kubernetes:core/v1:PersistentVolumeClaim") {
      out.push({
        owner: r.name,
        path: "spec.storageClassName",
        className: className(spec["storageClassName"]),
        accessModes: modes(spec["accessModes"], []),
      });
    } else if (r.type === "kubernetes:postgresql.cnpg.io/v1:Cluster") {
      // CloudNativePG makes ReadWriteOnce claims from spec.storage and spec.walStorage.
      for (const key of ["storage", "walStorage"]) {
        const s = rec(spec[key]);
        if (key === "walStorage" && Object.keys(s).length === 0) continue;
        out.push({
          owner: r.name,
          path: `spec.${key}.storageClass`,
          className: className(s["storageClass"]),
          accessModes: ["ReadWriteOnce"],
        });
      }
    } else if (r.type === "kubernetes:helm.sh/v3:Release") {
      const chart = String(r.inputs["chart"] ?? "").replace(/^.*\//, "");
      const values = rec(r.inputs["values"]);
      for (const c of CHART_CLAIMS[chart] ?? []) {
        if (!c.on(values)) continue;
        const s = rec(at(values, c.spec));
        out.push({
          owner: r.name,
          path: `values.${[...c.spec, c.classKey].join(".")}`,
          className: className(s[c.classKey]),
          accessModes: modes(s["accessModes"], c.accessModesDefault),
        });
      }
    }
  }
  return out;
}

export interface StorageFinding {
  readonly owner: string;
  readonly message: string;
}

/** Every claim that would not bind, and every node the provisioner cannot serve. */
export function storageFindings(plan: AnalysisPlan): StorageFinding[] {
  const findings: StorageFinding[] = [];
  const classes = plan.resources.filter(
    (r) => r.type === "kubernetes:storage.k8s.io/v1:StorageClass",
  );
  const classOf = (name: string) => classes.find((c) => rec(c.inputs["metadata"])["name"] === name);
  const defaults = classes.filter(
    (c) => rec(rec(c.inputs["metadata"])["annotations"])[DEFAULT_CLASS_ANNOTATION] === "true",
  );
  const charts = new Set(
    plan.resources
      .filter((r) => r.type === "kubernetes:helm.sh/v3:Release")
      .map((r) => String(r.inputs["chart"] ?? "")),
  );
  const drivers = Object.values(STORAGE_DRIVERS);
  const installed = (d: (typeof drivers)[number]) =>
    charts.has(d.chart.chart) || charts.has(`${d.chart.repo}/${d.chart.chart}`);

  for (const claim of claims(plan)) {
    const where = `${claim.owner} ${claim.path}`;
    let name = claim.className;
    if (name === undefined) {
      if (defaults.length !== 1) {
        findings.push({
          owner: claim.owner,
          message: `${where}: names no StorageClass and the stack has ${defaults.length === 0 ? "no default class" : `${defaults.length} default classes`}: the claim stays Pending`,
        });
        continue;
      }
      name = String(rec(defaults[0]!.inputs["metadata"])["name"]);
    }
    const cls = classOf(name);
    if (cls === undefined) {
      findings.push({
        owner: claim.owner,
        message: `${where}: StorageClass "${name}" is not one the stack provides (${classes.map((c) => String(rec(c.inputs["metadata"])["name"])).join(", ") || "none"}): the claim stays Pending`,
      });
      continue;
    }
    const provisioner = String(cls.inputs["provisioner"] ?? "");
    const driver = drivers.find((d) => d.provisioner === provisioner);
    if (driver === undefined || !installed(driver)) {
      findings.push({
        owner: claim.owner,
        message: `${where}: StorageClass "${name}"'s provisioner ${provisioner} is not installed by the stack: the claim stays Pending`,
      });
      continue;
    }
    const unsupported = claim.accessModes.filter(
      (m) => !(driver.accessModes as readonly string[]).includes(m),
    );
    if (unsupported.length > 0) {
      findings.push({
        owner: claim.owner,
        message: `${where}: ${provisioner} offers ${driver.accessModes.join(" and ")}, not ${unsupported.join(", ")}`,
      });
    }
    if (driver.topologyBound && cls.inputs["volumeBindingMode"] !== "WaitForFirstConsumer") {
      findings.push({
        owner: claim.owner,
        message: `${where}: StorageClass "${name}" provisions ${provisioner} volumes before the pod is scheduled, where the pod may not follow (volumeBindingMode must be WaitForFirstConsumer)`,
      });
    }
  }

  // What the provisioners need of the nodes.
  const usedDrivers = new Set(
    classes.map((c) => String(c.inputs["provisioner"] ?? "")).filter(Boolean),
  );
  for (const vm of plan.resources.filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy")) {
    const node = String(vm.inputs["name"]);
    const host = String(vm.inputs["nodeName"]);
    const worker = !list(vm.inputs["tags"]).includes("controlplane");
    const file = plan.resources.find((r) => r.name === `${vm.name}-user-data`);
    const view = rec(rec(file?.views)["sourceRaw.data"]);
    const { labels } = nodeLabelsAndTaints(view, !worker);
    if (usedDrivers.has(STORAGE_DRIVERS["proxmox-csi"].provisioner)) {
      // proxmox-csi-plugin v0.19.1 pkg/csi/node.go: NodeGetInfo fails without both labels, and
      // the controller creates the disk on the host the zone names.
      if (labels[TOPOLOGY_REGION_LABEL] === undefined) {
        findings.push({
          owner: vm.name,
          message: `node ${node}: no ${TOPOLOGY_REGION_LABEL} label: the Proxmox CSI plugin cannot serve it`,
        });
      }
      if (labels[TOPOLOGY_ZONE_LABEL] !== host) {
        findings.push({
          owner: vm.name,
          message: `node ${node}: ${TOPOLOGY_ZONE_LABEL} is ${JSON.stringify(labels[TOPOLOGY_ZONE_LABEL] ?? null)}, not its Proxmox host ${host}: the Proxmox CSI plugin would create its disks on the wrong host`,
        });
      }
    }
    if (
      worker &&
      usedDrivers.has(STORAGE_DRIVERS["local-path"].provisioner) &&
      rec(view[`UserVolumeConfig/${LOCAL_PATH_VOLUME}`])["volumeType"] !== "directory"
    ) {
      findings.push({
        owner: vm.name,
        message: `node ${node}: no UserVolumeConfig ${LOCAL_PATH_VOLUME} (a directory volume): the local-path provisioner's directories would not reach the kubelet`,
      });
    }
  }
  return findings;
}
