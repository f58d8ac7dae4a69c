// The part of the engine the inspectors read. Typed as a Pick of EngineApi so tests can hand in a
// small fake and the inspectors never reach past the engine's public API.
import type { EngineApi } from '../api.js';

export type InspectEngine = Pick<EngineApi, 'list' | 'get' | 'onEvent'> &
  Partial<Pick<EngineApi, 'stats' | 'usage' | 'eventCounts' | 'changes' | 'inspectImage' | 'update' | 'tenantUsage'>>;
