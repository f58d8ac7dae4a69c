// Types of dashboard-build.mjs, for the tests that import it.
export function dashboardBuildIsStale(root: string): boolean;
export function ensureDashboardBuilt(root: string, env?: NodeJS.ProcessEnv): number;
