// Which mandatory-access-control modules the host kernel runs (for `docker info`): Docker's own
// confinement of SYS_ADMIN rests on AppArmor, so the warnings say when it is absent.
import { existsSync, readFileSync } from 'node:fs';

export function hostSecurityModules(): { apparmor: boolean; selinux: boolean } {
  let lsm = '';
  try {
    lsm = readFileSync('/sys/kernel/security/lsm', 'utf8');
  } catch {
    /* securityfs not mounted: look at the modules' own files */
  }
  const apparmor = lsm.split(',').includes('apparmor') || readYes('/sys/module/apparmor/parameters/enabled');
  const selinux = lsm.split(',').includes('selinux') || existsSync('/sys/fs/selinux/enforce');
  return { apparmor, selinux };
}

function readYes(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}
