/**
 * The catalog: facts about the real systems the platform uses, each in one table (runtimes,
 * pinned charts, images and manifests, well-known labels; model engines in engines.ts), imported
 * by every component that needs them and found by Renovate's custom managers (renovate.json).
 * The catalog imports nothing of the program.
 */
export * from "./charts";
export * from "./engines";
export * from "./images";
export * from "./labels";
export * from "./manifests";
export * from "./runtimes";
