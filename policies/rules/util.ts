import type {
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { EXEMPTABLE, exemptionsOf } from "../lib/exemptions";

/* eslint-disable @typescript-eslint/no-explicit-any -- resource properties are untyped JSON. */
export type Props = Record<string, any>;

/** A resource policy that only looks at some types; missing fields never throw. */
export function resourcePolicy(
  p: Omit<ResourceValidationPolicy, "validateResource"> & {
    readonly types: readonly string[];
    readonly check: (
      props: Props,
      report: (message: string) => void,
      args: ResourceValidationArgs,
    ) => void;
  },
): ResourceValidationPolicy {
  const { types, check, ...policy } = p;
  return {
    ...policy,
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      if (!types.includes(args.type)) return;
      check(args.props ?? {}, (m) => report(m), args);
    },
  };
}

export function stackPolicy(
  p: Omit<StackValidationPolicy, "validateStack"> & {
    readonly check: (args: StackValidationArgs, report: ReportViolation) => void;
  },
): StackValidationPolicy {
  const { check, ...policy } = p;
  return { ...policy, validateStack: (args, report) => check(args, report) };
}

/** Pulumi Kubernetes types that carry a pod template, and where it is. */
export const WORKLOADS: Readonly<Record<string, (p: Props) => Props | undefined>> = {
  "kubernetes:core/v1:Pod": (p) => p["spec"],
  "kubernetes:apps/v1:Deployment": (p) => p["spec"]?.template?.spec,
  "kubernetes:apps/v1:StatefulSet": (p) => p["spec"]?.template?.spec,
  "kubernetes:apps/v1:DaemonSet": (p) => p["spec"]?.template?.spec,
  "kubernetes:apps/v1:ReplicaSet": (p) => p["spec"]?.template?.spec,
  "kubernetes:batch/v1:Job": (p) => p["spec"]?.template?.spec,
  "kubernetes:batch/v1:CronJob": (p) => p["spec"]?.jobTemplate?.spec?.template?.spec,
};
export const WORKLOAD_TYPES = Object.keys(WORKLOADS);

/** Every container of a pod spec, with its kind. */
export function containersOf(spec: Props | undefined): { kind: string; c: Props }[] {
  if (!spec) return [];
  const list = (key: string, kind: string) =>
    (Array.isArray(spec[key]) ? spec[key] : []).map((c: Props) => ({ kind, c: c ?? {} }));
  return [
    ...list("containers", "container"),
    ...list("initContainers", "init container"),
    ...list("ephemeralContainers", "ephemeral container"),
  ];
}

/** A pod-spec policy: calls `check` with the pod spec of any workload type. */
export function podPolicy(
  p: Omit<ResourceValidationPolicy, "validateResource"> & {
    readonly check: (
      spec: Props,
      report: (message: string) => void,
      props: Props,
      args: ResourceValidationArgs,
    ) => void;
    /** Skip workloads in these namespaces (the platform's own, exempt from Pod Security). */
    readonly exemptNamespaces?: readonly string[];
  },
): ResourceValidationPolicy {
  const { check, exemptNamespaces = ["kube-system"], ...rest } = p;
  const exemptable = (EXEMPTABLE as readonly string[]).includes(p.name);
  return resourcePolicy({
    ...rest,
    types: WORKLOAD_TYPES,
    check: (props, report, args) => {
      if (exemptNamespaces.includes(props["metadata"]?.namespace)) return;
      const spec = WORKLOADS[args.type]?.(props);
      if (!spec) return;
      const exemption = exemptable
        ? exemptionsOf(props).find((e) => e.policy === p.name && e.reason.trim() !== "")
        : undefined;
      if (exemption === undefined) return check(spec, report, props, args);
      // An exemption stands only while the rule would find something: a fixed workload loses it.
      const found: string[] = [];
      check(spec, (m) => found.push(m), props, args);
      if (found.length === 0) {
        report(`the exemption from ${p.name} exempts nothing: remove it ("${exemption.reason}")`);
      }
    },
  });
}

export const name = (c: Props) => (typeof c["name"] === "string" ? c["name"] : "(unnamed)");
