// Pull progress in Docker's wire format: the engine reports PullEvents, the docker CLI reads these.
import type { LayerStatus, PullEvent } from '../../engine/index.js';

/**
 * One PullEvent as the JSON object docker's CLI reads from POST /images/create (one per line):
 * {"status":"Downloading","progressDetail":{"current":n,"total":N},"id":"abc123def456"}.
 */
export function dockerProgressMessage(e: PullEvent): { status: string; id?: string; progressDetail?: { current?: number; total?: number } } {
  if (e.type === 'status') return { status: e.message };
  const words: Record<LayerStatus, string> = {
    waiting: 'Waiting',
    downloading: 'Downloading',
    verifying: 'Verifying Checksum',
    downloaded: 'Download complete',
    extracting: 'Extracting',
    complete: 'Pull complete',
    exists: 'Already exists',
  };
  const withBar = e.status === 'downloading' || e.status === 'extracting';
  return { status: words[e.status], id: e.id, progressDetail: withBar ? { current: e.current, total: e.total } : {} };
}
