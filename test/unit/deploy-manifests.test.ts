// deploy/ checked offline (issue 13, "beyond one machine"): every manifest parses as YAML and
// validates against the Kubernetes schemas (kubernetes-models), with no field the schema does not
// know, selectors that select, mounts that mount; and the pieces are what the design says (a
// privileged node DaemonSet with the host's cgroups, the front finding nodes by the headless
// Service, Redis with a password). A broken manifest is reported by file and field.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDeployDir, formatProblem, type K8sObject } from '../../scripts/check-deploy.js';

const DEPLOY = join(import.meta.dirname, '..', '..', 'deploy');
const good = checkDeployDir(DEPLOY);
const find = (kind: string, name: string) => {
  const o = good.objects.find((x) => x.o.kind === kind && x.o.metadata?.name === name)?.o;
  if (!o) throw new Error(`deploy/ has no ${kind} ${name}`);
  return o as K8sObject & { spec: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/** deploy/ copied, one file changed by `edit`: the problems found there. */
function brokenCopy(file: string, edit: (text: string) => string): string[] {
  const dir = mkdtempSync('/tmp/gbt-deploy-');
  scratch.push(dir);
  cpSync(DEPLOY, dir, { recursive: true });
  const before = readFileSync(join(dir, file), 'utf8');
  const after = edit(before);
  if (after === before) throw new Error(`the edit of ${file} changed nothing: the test is out of date`);
  writeFileSync(join(dir, file), after);
  return checkDeployDir(dir).problems.map(formatProblem);
}

describe('deploy/ manifests', () => {
  it('all parse and validate against the Kubernetes schemas, with no unknown field', () => {
    expect(good.problems.map(formatProblem)).toEqual([]);
    const kinds = good.objects.map(({ o }) => `${o.kind}/${o.metadata?.name}`).sort();
    expect(kinds).toEqual([
      'DaemonSet/glassbox-node',
      'Deployment/glassbox-front',
      'Deployment/glassbox-redis',
      'Ingress/glassbox',
      'Namespace/glassbox',
      'PersistentVolumeClaim/glassbox-front-state',
      'Service/glassbox-front',
      'Service/glassbox-nodes',
      'Service/glassbox-redis',
      'ServiceAccount/glassbox-front',
      'ServiceAccount/glassbox-node',
      'ServiceAccount/glassbox-redis',
    ]);
  });

  it('runs a node as a privileged pod per host with the host cgroups, a state dir, the token from a Secret and a readiness probe', () => {
    const ds = find('DaemonSet', 'glassbox-node');
    const pod = ds.spec.template.spec;
    const c = pod.containers[0];
    expect(c.securityContext.privileged).toBe(true);
    expect(pod.hostPID).toBe(false);
    const volume = (mountPath: string) => pod.volumes.find((v: { name: string }) => v.name === c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === mountPath)?.name);
    expect(volume('/sys/fs/cgroup').hostPath).toEqual({ path: '/sys/fs/cgroup', type: 'Directory' });
    expect(volume('/var/lib/glassbox').hostPath.path).toBe('/var/lib/glassbox');
    expect(volume('/etc/glassbox/teacher').secret.secretName).toBe('glassbox-teacher-token');
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    expect(env.GLASSBOX_TOKEN_FILE).toBe('/etc/glassbox/teacher/token');
    expect(env.GLASSBOX_REDIS_URL).toMatch(/^redis:\/\/:\$\(REDIS_PASSWORD\)@glassbox-redis\.glassbox\.svc\.cluster\.local:6379$/);
    expect(c.readinessProbe).toBeTruthy();
    expect(c.args.slice(0, 4)).toEqual(['node', '--import', 'tsx', 'server/main.ts']);
  });

  it('has the front find the nodes through the headless Service, unprivileged, with no API token', () => {
    const front = find('Deployment', 'glassbox-front');
    const nodes = find('Service', 'glassbox-nodes');
    expect(nodes.spec.clusterIP).toBe('None');
    const args: string[] = front.spec.template.spec.containers[0].args;
    expect(args[args.indexOf('--nodes-dns') + 1]).toBe(`${nodes.metadata!.name}.glassbox.svc.cluster.local:${nodes.spec.ports[0].port}`);
    expect(front.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(front.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(front.spec.template.spec.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const redis = find('Deployment', 'glassbox-redis').spec.template.spec.containers[0];
    expect(redis.args).toContain('--requirepass');
  });

  it('names the file and field of a typo, a wrong type, a missing field and a broken reference', () => {
    expect(brokenCopy('node-daemonset.yaml', (t) => t.replace('readinessProbe:', 'readinesProbe:'))).toContain(
      'node-daemonset.yaml: DaemonSet/glassbox-node: spec.template.spec.containers[0].readinesProbe: not a field of DaemonSet (a typo?)',
    );
    expect(brokenCopy('node-daemonset.yaml', (t) => t.replace('hostPID: false', 'hostPID: "no"'))).toContain('node-daemonset.yaml: DaemonSet/glassbox-node: spec.template.spec.hostPID: must be boolean');
    expect(brokenCopy('front-service.yaml', (t) => t.replace('port: 80', 'port: eighty'))).toContain('front-service.yaml: Service/glassbox-front: spec.ports[0].port: must be integer');
    expect(brokenCopy('redis-deployment.yaml', (t) => t.replace('          image: redis:7-bookworm\n', '').replace('- name: redis\n', '- image: redis:7-bookworm\n'))).toContain(
      'redis-deployment.yaml: Deployment/glassbox-redis: spec.template.spec.containers[0].name: must have required property name',
    );
    expect(brokenCopy('front-deployment.yaml', (t) => t.replace('mountPath: /tmp', 'mountPath: /tmp\n            - name: cache\n              mountPath: /cache'))).toContain(
      'front-deployment.yaml: Deployment/glassbox-front: spec.template.spec.containers[0].volumeMounts[2].name: no volume named cache',
    );
    expect(brokenCopy('node-service.yaml', (t) => t.replace('name: glassbox-node\n  ports', 'name: glassbox-nod\n  ports'))).toContain('node-service.yaml: Service/glassbox-nodes: spec.selector: matches no pod template in deploy/');
    expect(brokenCopy('kustomization.yaml', (t) => t.replace('  - front-pvc.yaml\n', ''))).toContain('kustomization.yaml: resources: front-pvc.yaml is not listed');
    const yamlError = brokenCopy('namespace.yaml', (t) => t.replace('  name: glassbox', '  name: glassbox\n   bad: indent'));
    expect(yamlError.find((l) => l.startsWith('namespace.yaml: not YAML:'))).toMatch(/line \d+/);
  });
});
