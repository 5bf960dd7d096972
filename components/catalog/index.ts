/**
 * The catalog: facts about the real systems the platform uses, each in one table (runtimes,
 * pinned charts, images and manifests, well-known labels; model engines in engines.ts, what the served models need of a GPU in
 * models.ts), imported
 * by every component that needs them and found by Renovate's custom managers (renovate.json).
 * The catalog imports nothing of the program.
 */
export * from "./charts";
export * from "./engines";
export * from "./images";
export * from "./labels";
export * from "./manifests";
export * from "./models";
export * from "./runtimes";
export * from "./storage";
