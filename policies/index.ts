/**
 * The CrossGuard pack: `pulumi preview --policy-pack policies` (or `up`). Creating a PolicyPack
 * starts the analyzer server, so nothing else imports this file: tests and the offline plan use
 * pack.ts and the rules directly. HOMEBREW_ENVIRONMENT (dev, staging, prod) picks the
 * enforcement levels; unset means prod, the strictest.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, packEnvironment, policiesFor } from "./pack";

new PolicyPack(PACK_NAME, { policies: policiesFor(packEnvironment()) });
