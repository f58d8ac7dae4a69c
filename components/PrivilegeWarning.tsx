'use client';
// Says plainly what --privileged / --cap-add SYS_ADMIN give away (the form, the container page).
import { NO_LSM_NOTE, privilegeRisks } from '../common/privilege-risks';
import type { ContainerConfig } from '../server/engine/types';

export function PrivilegeWarning({ config, testId = 'privileged-warning' }: { config: Pick<ContainerConfig, 'privileged' | 'capAdd' | 'capDrop'>; testId?: string }) {
  const risks = privilegeRisks(config);
  if (!risks.length) return null;
  return (
    <div className="mt-1 space-y-2 text-sm text-rose-200" role="alert" data-testid={testId}>
      {risks.map((r) => (
        <div key={r.option}>
          <p>
            ⚠ <b>{r.summary}</b> It gives the container:
          </p>
          <ul className="ml-5 list-disc">
            {r.givesAway.map((g) => (
              <li key={g}>{g}</li>
            ))}
          </ul>
        </div>
      ))}
      <p className="text-rose-300/90">{NO_LSM_NOTE} Use it only to show exactly that.</p>
    </div>
  );
}
