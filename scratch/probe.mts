import { mkdirSync, writeFileSync, statSync, rmSync, chownSync, closeSync } from 'node:fs';
import { userNamespaceFd, mountIdmapped } from '../server/engine/userns/idmap.ts';
import { mount, umount2, MNT_DETACH } from '../native/libc.ts';
const b = '/tmp/gbprobe/x';
rmSync(b, { recursive: true, force: true });
for (const d of ['l1', 'l2', 'm1', 'm2', 'up', 'wk', 'merged']) mkdirSync(`${b}/${d}`, { recursive: true });
writeFileSync(`${b}/l1/a`, 'a'); writeFileSync(`${b}/l2/b`, 'b');
chownSync(`${b}/up`, 165536, 165536);
let t = performance.now();
const fd = await userNamespaceFd([{ containerId: 0, hostId: 165536, size: 65536 }], [{ containerId: 0, hostId: 165536, size: 65536 }]);
console.log('userns fd', fd, (performance.now() - t).toFixed(1), 'ms');
t = performance.now();
mountIdmapped(`${b}/l1`, `${b}/m1`, fd);
mountIdmapped(`${b}/l2`, `${b}/m2`, fd);
console.log('idmap 2 layers', (performance.now() - t).toFixed(1), 'ms');
console.log('m1/a uid', statSync(`${b}/m1/a`).uid);
closeSync(fd);
try {
  mount('overlay', `${b}/merged`, 'overlay', 0, `lowerdir=${b}/m2:${b}/m1,upperdir=${b}/up,workdir=${b}/wk`);
  console.log('overlay ok: a uid', statSync(`${b}/merged/a`).uid, 'root uid', statSync(`${b}/merged`).uid);
  umount2(`${b}/m1`, MNT_DETACH); umount2(`${b}/m2`, MNT_DETACH);
  console.log('after detach lowers: a uid', statSync(`${b}/merged/a`).uid);
  writeFileSync(`${b}/merged/a`, 'changed');
  console.log('copy-up upper/a uid', statSync(`${b}/up/a`).uid);
  umount2(`${b}/merged`);
} catch (e) { console.log('overlay failed', e); for (const m of ['m1','m2']) try { umount2(`${b}/${m}`, MNT_DETACH) } catch {} }
