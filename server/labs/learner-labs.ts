// Which labs a learner's sandbox can run. A learner's containers meet the learner policy
// (server/engine/tenancy/learner-policy.ts); a lab written for the teacher's machine may ask for
// more (chroot mode, CAP_SYS_ADMIN, the host's network, a fixed host port, the docker CLI). Such a
// lab is not offered to learners, and the reason is the policy's own line, found by putting each of
// the lab's containers through the policy now — so the list follows the policy when it changes.
import { applyLearnerPolicy, EngineError, type ContainerConfig } from '../engine/index.js';
import type { LoadedLab } from './loader.js';

export type LabAvailability = { learners: true } | { learners: false; reason: string };

const SCRATCH = '{{scratch}}';
/** a stand-in for the learner's own network in the dry run */
const OWN_NET = 'own-net';

/** The config as a learner's engine would admit it, minus what the lab runner adds itself (its scratch binds). */
function asLearnerWouldAsk(config: Omit<ContainerConfig, 'name'>): ContainerConfig {
  const net = config.network;
  return {
    ...config,
    network: net === undefined || net === 'bridge' ? OWN_NET : net === 'none' || net === 'host' || net.startsWith('container:') ? net : OWN_NET,
    ...(config.mounts ? { mounts: config.mounts.filter((m) => !(m.type === 'bind' && m.source?.startsWith(SCRATCH))) } : {}),
    // a fixed host port is judged on its own below (ranges differ from learner to learner)
    ports: [],
  };
}

export function learnerAvailability(lab: Pick<LoadedLab, 'containers' | 'steps' | 'learners'>): LabAvailability {
  if (lab.learners && lab.learners.available === false) return { learners: false, reason: lab.learners.reason };
  for (const c of lab.containers) {
    const fixed = (c.config.ports ?? []).find((p) => p.hostPort);
    if (fixed) return { learners: false, reason: `container ${c.role} publishes the fixed host port ${fixed.hostPort}: a learner publishes only from their own port range` };
    try {
      applyLearnerPolicy(asLearnerWouldAsk(c.config), { learnerId: 'dryrun', ports: { from: 1, to: 0 }, maxContainers: Number.MAX_SAFE_INTEGER }, { ownNetworks: new Set([OWN_NET]), containers: 0 });
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
      return { learners: false, reason: `container ${c.role}: ${e.message}` };
    }
  }
  const docker = lab.steps.find((s) => s.runBlocks.some((b) => b.docker));
  if (docker) return { learners: false, reason: `step ${docker.id} runs the docker CLI, which is the teacher's (a learner works through the dashboard)` };
  return { learners: true };
}
