// Types of server-build.mjs, for the benchmarks and tests that import it.
export const SERVER_ENTRY: string;
export function serverBuildIsStale(root: string): boolean;
export function ensureServerBuilt(root: string): Promise<number>;
