export * from "./cache";
export * from "./edge";
export * from "./limits";
export * from "./records";
export * from "./redirects";
export * from "./services";
