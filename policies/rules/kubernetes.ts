import type { ResourceValidationPolicy } from "@pulumi/policy";
import { EXEMPTABLE, EXEMPTION_PREFIX, exemptionsOf } from "../lib/exemptions";
import { containersOf, name, podPolicy, type Props } from "./util";

/**
 * Pod Security Standards as policies: the "baseline" level (mandatory: it stops known privilege
 * escalations) and the "restricted" level (hardening), plus resources and probes.
 */

/** Capabilities the baseline level allows a container to add. */
export const BASELINE_CAPABILITIES = [
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
];

const sc = (c: Props): Props => c["securityContext"] ?? {};

export const noPrivileged = podPolicy({
  name: "k8s-no-privileged-containers",
  description: "Pod Security baseline: no container runs privileged.",
  enforcementLevel: "mandatory",
  check: (spec, report) => {
    for (const { kind, c } of containersOf(spec)) {
      if (sc(c)["privileged"] === true) report(`${kind} "${name(c)}" is privileged`);
    }
  },
});

export const noHostNamespaces = podPolicy({
  name: "k8s-no-host-namespaces",
  description: "Pod Security baseline: pods do not share the node's network, PID or IPC namespace.",
  enforcementLevel: "mandatory",
  check: (spec, report) => {
    for (const key of ["hostNetwork", "hostPID", "hostIPC"]) {
      if (spec[key] === true) report(`the pod sets ${key}`);
    }
  },
});

export const noHostPath = podPolicy({
  name: "k8s-no-hostpath-volumes",
  description: "Pod Security baseline: no hostPath volumes.",
  enforcementLevel: "mandatory",
  check: (spec, report) => {
    for (const v of Array.isArray(spec["volumes"]) ? spec["volumes"] : []) {
      if (v?.hostPath !== undefined) report(`volume "${name(v)}" is a hostPath`);
    }
  },
});

export const noHostPorts = podPolicy({
  name: "k8s-no-host-ports",
  description: "Pod Security baseline: containers do not bind host ports.",
  enforcementLevel: "mandatory",
  check: (spec, report) => {
    for (const { kind, c } of containersOf(spec)) {
      for (const p of Array.isArray(c["ports"]) ? c["ports"] : []) {
        if (typeof p?.hostPort === "number" && p.hostPort !== 0) {
          report(`${kind} "${name(c)}" binds host port ${p.hostPort}`);
        }
      }
    }
  },
});

export const baselineCapabilities = podPolicy({
  name: "k8s-baseline-capabilities",
  description: "Pod Security baseline: containers add no capability beyond the baseline set.",
  enforcementLevel: "mandatory",
  check: (spec, report) => {
    for (const { kind, c } of containersOf(spec)) {
      const add = sc(c)["capabilities"]?.add;
      for (const cap of Array.isArray(add) ? add : []) {
        if (!BASELINE_CAPABILITIES.includes(cap)) report(`${kind} "${name(c)}" adds ${cap}`);
      }
    }
  },
});

export const noPrivilegeEscalation = podPolicy({
  name: "k8s-no-privilege-escalation",
  description: "Pod Security restricted: allowPrivilegeEscalation is false.",
  enforcementLevel: "advisory",
  check: (spec, report) => {
    for (const { kind, c } of containersOf(spec)) {
      if (sc(c)["allowPrivilegeEscalation"] !== false) {
        report(`${kind} "${name(c)}" does not set allowPrivilegeEscalation: false`);
      }
    }
  },
});

export const runAsNonRoot = podPolicy({
  name: "k8s-run-as-non-root",
  description: "Pod Security restricted: containers run as a non-root user.",
  enforcementLevel: "advisory",
  check: (spec, report) => {
    const pod = spec["securityContext"]?.runAsNonRoot === true;
    for (const { kind, c } of containersOf(spec)) {
      const own = sc(c)["runAsNonRoot"];
      if (!(own === true || (own === undefined && pod))) {
        report(`${kind} "${name(c)}" may run as root (set runAsNonRoot: true)`);
      }
    }
  },
});

export const seccompRuntimeDefault = podPolicy({
  name: "k8s-seccomp-runtime-default",
  description: "Pod Security restricted: the RuntimeDefault (or a Localhost) seccomp profile.",
  enforcementLevel: "advisory",
  check: (spec, report) => {
    const ok = (t: unknown) => t === "RuntimeDefault" || t === "Localhost";
    const pod = spec["securityContext"]?.seccompProfile?.type;
    for (const { kind, c } of containersOf(spec)) {
      const own = sc(c)["seccompProfile"]?.type;
      if (!ok(own ?? pod)) report(`${kind} "${name(c)}" has no RuntimeDefault seccomp profile`);
    }
  },
});

export const dropAllCapabilities = podPolicy({
  name: "k8s-drop-all-capabilities",
  description: "Pod Security restricted: containers drop ALL capabilities.",
  enforcementLevel: "advisory",
  check: (spec, report) => {
    for (const { kind, c } of containersOf(spec)) {
      const drop = sc(c)["capabilities"]?.drop;
      if (!(Array.isArray(drop) && drop.includes("ALL"))) {
        report(`${kind} "${name(c)}" does not drop ALL capabilities`);
      }
    }
  },
});

export const readOnlyRootFilesystem = podPolicy({
  name: "k8s-read-only-root-filesystem",
  description: "Hardening: containers mount their root filesystem read-only.",
  enforcementLevel: "advisory",
  check: (spec, report) => {
    for (const { kind, c } of containersOf(spec)) {
      if (sc(c)["readOnlyRootFilesystem"] !== true) {
        report(`${kind} "${name(c)}" has a writable root filesystem`);
      }
    }
  },
});

export const resourceRequests = podPolicy({
  name: "k8s-resource-requests-and-limits",
  description: "Containers request CPU and memory and limit memory, so scheduling is honest.",
  enforcementLevel: "advisory",
  check: (spec, report) => {
    for (const { kind, c } of containersOf(spec)) {
      const r = c["resources"] ?? {};
      if (r.requests?.cpu === undefined) report(`${kind} "${name(c)}" has no CPU request`);
      if (r.requests?.memory === undefined) report(`${kind} "${name(c)}" has no memory request`);
      if (r.limits?.memory === undefined) report(`${kind} "${name(c)}" has no memory limit`);
    }
  },
});

export const probes = podPolicy({
  name: "k8s-readiness-and-liveness-probes",
  description: "Long-running containers have readiness and liveness probes.",
  enforcementLevel: "advisory",
  check: (spec, report, props) => {
    // A Job's pods run to completion: probes do not apply.
    if (props["kind"] === "Job" || props["kind"] === "CronJob") return;
    const containers = Array.isArray(spec["containers"]) ? spec["containers"] : [];
    for (const c of containers) {
      if (!c?.readinessProbe) report(`container "${name(c ?? {})}" has no readiness probe`);
      if (!c?.livenessProbe) report(`container "${name(c ?? {})}" has no liveness probe`);
    }
  },
});

/**
 * An exemption names a rule that can be exempted and says why: anything else would be a way
 * around a rule that guards data, access or the cluster, or an exemption nobody can review.
 */
export const validExemptions: ResourceValidationPolicy = {
  name: "policy-exemptions-valid",
  description: `Exemption annotations (${EXEMPTION_PREFIX}<rule>) name an exemptable rule and give a reason.`,
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (!args.type.startsWith("kubernetes:")) return;
    for (const e of exemptionsOf(args.props)) {
      if (!(EXEMPTABLE as readonly string[]).includes(e.policy)) {
        report(
          `${EXEMPTION_PREFIX}${e.policy}: ${e.policy} cannot be exempted (exemptable: ${EXEMPTABLE.join(", ")})`,
        );
      } else if (e.reason.trim() === "") {
        report(`${EXEMPTION_PREFIX}${e.policy}: an exemption needs a reason`);
      }
    }
  },
};

export const kubernetesPolicies: ResourceValidationPolicy[] = [
  validExemptions,
  noPrivileged,
  noHostNamespaces,
  noHostPath,
  noHostPorts,
  baselineCapabilities,
  noPrivilegeEscalation,
  runAsNonRoot,
  seccompRuntimeDefault,
  dropAllCapabilities,
  readOnlyRootFilesystem,
  resourceRequests,
  probes,
];
