'use client';
// "New container": every knob a lesson needs, a pasted `docker run …` line fills it, and the
// request that will be sent is shown next to it (the OCI config.json appears on the container's
// page once the engine has written it).
import Link from 'next/link';
import { useEffect, useMemo, useState } from 'react';
import { NAMESPACE_ISOLATES, NAMESPACES } from '../common/namespaces';
import { api, ApiError } from './lib/client';
import { parseDockerRun } from './lib/docker-run';
import { bytes } from './lib/format';
import { defaultForm, defaultImage, formProblem, fromConfig, MiB, toConfig, type FormState } from './lib/form-model';
import { initialPull, pullWithProgress, type PullState } from './lib/pull-progress';
import { PrivilegeWarning } from './PrivilegeWarning';
import { PullProgress } from './PullProgress';
import { Switch } from './Switch';
import { privilegeRisks } from '../common/privilege-risks';

/** GET /api/runtimes: every runtime driver and whether it can run here (runtime/drivers/index.ts) */
interface RuntimeOption {
  name: string;
  description: string;
  available: boolean;
  error: string | null;
}

interface ImageSummary {
  id: string;
  repoTags: string[];
}

function Slider({ label, value, min, max, step, onChange, format, testId }: { label: string; value: number; min: number; max: number; step: number; onChange: (v: number) => void; format: (v: number) => string; testId: string }) {
  return (
    <label className="block py-1">
      <span className="flex justify-between text-sm">
        <span className="text-slate-300">{label}</span>
        <span className="tabular-nums text-sky-200" data-testid={`${testId}-value`}>
          {format(value)}
        </span>
      </span>
      <input type="range" min={min} max={max} step={step} value={value} onChange={(e) => onChange(Number(e.target.value))} className="w-full accent-sky-500" data-testid={testId} />
    </label>
  );
}

const input = 'w-full rounded-md border border-slate-700 bg-slate-950 px-3 py-2 text-sm text-slate-100 placeholder:text-slate-500 focus:border-sky-500 focus:outline-none';

/** A shell the server starts with the container, for the terminal the page shows (POST /api/containers `terminal`). */
export interface CreateTerminal {
  sessionId: string;
  cols: number;
  rows: number;
}

export interface CreateHooks {
  /**
   * the request is about to be sent (after any pull): the page can get a terminal ready, and
   * return its session for the server to start the shell in as soon as the container runs
   */
  onCreating?: () => CreateTerminal | void;
  onCreated: (rec: { id: string; name: string }) => void;
  onFailed?: (message: string) => void;
}

/** A learner's form offers only what their sandbox allows (learner-policy.ts), up to their quota. */
export interface LearnerLimits {
  quota: { memory: number; cpus: number; pids: number };
}

/** the namespaces a learner's container always has of its own (the policy refuses the host's) */
const LEARNER_FIXED_NS = new Set(['pid', 'mnt', 'net', 'uts', 'ipc', 'cgroup', 'user']);

export function NewContainerForm({ cpus, onCreating, onCreated, onFailed, learner }: { cpus: number; learner?: LearnerLimits } & CreateHooks) {
  const [images, setImages] = useState<ImageSummary[]>([]);
  const [runtimes, setRuntimes] = useState<RuntimeOption[]>([]);
  const [form, setForm] = useState<FormState>(() => defaultForm());
  const [paste, setPaste] = useState('');
  const [pasteMsg, setPasteMsg] = useState<{ ok: boolean; text: string; partial?: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [showJson, setShowJson] = useState(false);
  const [pull, setPull] = useState<PullState | null>(null);
  /** the container a failed start left behind (docker run leaves it): linked from the message */
  const [startFailure, setStartFailure] = useState<{ id: string; name: string; status: string } | null>(null);

  useEffect(() => {
    if (!learner) api<RuntimeOption[]>('/api/runtimes').then(setRuntimes, () => {});
  }, [learner]);

  useEffect(() => {
    api<ImageSummary[]>('/api/images')
      .then((l) => {
        setImages(l);
        const first = defaultImage(l.flatMap((i) => i.repoTags));
        if (first) setForm((f) => (f.image ? f : { ...f, image: first }));
      })
      .catch(() => {});
  }, []);

  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setForm((f) => ({ ...f, [k]: v }));
  const config = useMemo(() => toConfig(form), [form]);
  const problem = formProblem(form);

  const applyPaste = () => {
    try {
      const r = parseDockerRun(paste);
      setForm((f) => fromConfig(r.config, defaultForm(f.image)));
      setPasteMsg({ ok: true, partial: r.warnings.length > 0, text: r.warnings.length ? `Filled in. ${r.warnings.join(' · ')}` : 'Filled in from the command line.' });
    } catch (e) {
      setPasteMsg({ ok: false, text: (e as Error).message });
    }
  };

  const submit = async (ev: React.FormEvent) => {
    ev.preventDefault();
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    setStartFailure(null);
    try {
      // an image that is not here yet is pulled first, with its progress shown
      const image = form.image.trim();
      const local = new Set(images.flatMap((i) => [...i.repoTags, i.id, i.id.replace(/^sha256:/, '')]));
      const lastPart = image.slice(image.lastIndexOf('/') + 1);
      const withTag = lastPart.includes(':') || lastPart.includes('@') ? image : `${image}:latest`;
      if (!local.has(image) && !local.has(withTag) && !/^(sha256:)?[0-9a-f]{12,64}$/.test(image)) {
        setPull(initialPull(image));
        try {
          await pullWithProgress(image, setPull);
        } catch (e) {
          // the pull's box says what failed (and drops its bar): not said twice below it
          onFailed?.((e as Error).message);
          return;
        }
        api<ImageSummary[]>('/api/images').then(setImages, () => {});
      }
      const terminal = onCreating?.() ?? undefined;
      // made and started in one request (the shell too, when the page shows one), as `docker run`
      // does: a start that fails leaves the container made (created or exited, listed) unless
      // --rm, the answer names it, and the message says so rather than a bare "failed"
      let rec: { id: string; name: string };
      try {
        rec = await api<{ id: string; name: string }>('/api/containers', { body: { ...config, ...(terminal ? { terminal } : {}) } });
      } catch (e) {
        const left = e instanceof ApiError ? (e.body.container as { id: string; name: string; status: string } | undefined) : undefined;
        if (!left) throw e;
        const why = (e as ApiError).message;
        const text = left.status === 'removed' ? `${left.name} did not start: ${why}. It was removed (--rm).` : `${left.name} was created but did not start: ${why}. It stays in the list as ${left.status}, as docker run leaves it: open it to see why, or remove it.`;
        setStartFailure(left.status === 'removed' ? null : left);
        setError(text);
        onFailed?.(text);
        return;
      }
      onCreated(rec);
    } catch (e) {
      setError((e as Error).message);
      onFailed?.((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const tags = images.flatMap((i) => i.repoTags);

  return (
    <form onSubmit={submit} className="space-y-4" data-testid="new-container-form">
      <div>
        <label className="mb-1 block text-sm text-slate-300" htmlFor="paste">
          Paste a <code className="text-sky-300">docker run …</code> line
        </label>
        <div className="flex gap-2">
          <input id="paste" className={`${input} font-mono`} value={paste} onChange={(e) => setPaste(e.target.value)} placeholder="docker run -it --memory 64m --pids-limit 50 busybox sh" data-testid="paste" />
          <button type="button" onClick={applyPaste} className="shrink-0 rounded-md border border-slate-600 px-3 text-sm hover:bg-slate-800" data-testid="paste-apply">
            Fill form
          </button>
        </div>
        {pasteMsg && (
          <p className={`mt-1 text-xs ${!pasteMsg.ok ? 'text-rose-300' : pasteMsg.partial ? 'text-amber-300' : 'text-emerald-300'}`} data-testid="paste-message">
            {pasteMsg.text}
          </p>
        )}
      </div>

      <div className="grid grid-cols-1 gap-3 md:grid-cols-2">
        <label className="block">
          <span className="mb-1 block text-sm text-slate-300">Image</span>
          <input className={input} list="images" value={form.image} onChange={(e) => set('image', e.target.value)} required data-testid="image" />
          <datalist id="images">
            {tags.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
        <label className="block">
          <span className="mb-1 block text-sm text-slate-300">Command</span>
          <input className={`${input} font-mono`} value={form.command} onChange={(e) => set('command', e.target.value)} placeholder="(the image's default)" data-testid="command" />
        </label>
        <label className="block">
          <span className="mb-1 block text-sm text-slate-300">Name</span>
          <input className={input} value={form.name} onChange={(e) => set('name', e.target.value)} placeholder="(random)" data-testid="name" aria-invalid={!!problem} aria-describedby={problem ? 'name-problem' : undefined} />
          {problem && (
            <span id="name-problem" className="mt-1 block break-words text-xs text-rose-300" data-testid="name-problem">
              {problem}
            </span>
          )}
        </label>
        <label className="block">
          <span className="mb-1 block text-sm text-slate-300">Hostname</span>
          <input className={input} value={form.hostname} onChange={(e) => set('hostname', e.target.value)} placeholder="(the short id)" data-testid="hostname" />
        </label>
      </div>

      <fieldset className="rounded-lg border border-slate-800 p-3">
        <legend className="px-1 text-sm font-semibold text-slate-200">Namespaces</legend>
        <div className="grid grid-cols-1 gap-x-6 md:grid-cols-2">
          {NAMESPACES.map((ns) => {
            const fixed = learner && LEARNER_FIXED_NS.has(ns);
            return (
              <Switch
                key={ns}
                testId={`ns-${ns}`}
                checked={fixed ? true : form.namespaces[ns]}
                onChange={(v) => set('namespaces', { ...form.namespaces, [ns]: v })}
                label={`${ns}${ns === 'user' ? ' (user namespace)' : ''}`}
                hint={NAMESPACE_ISOLATES[ns]}
                disabled={fixed ? (ns === 'user' ? 'always on in your sandbox: root inside is a uid range of your own outside' : "always on in your sandbox: the host's is not shared with learners") : undefined}
              />
            );
          })}
        </div>
        {form.namespaces.time && (
          <div className="mt-2 grid grid-cols-1 gap-3 md:grid-cols-2">
            <label className="block">
              <span className="mb-1 block text-sm text-slate-300">Uptime offset, CLOCK_BOOTTIME (s)</span>
              <input className={input} type="number" step={1} value={form.boottimeOffset} onChange={(e) => set('boottimeOffset', Number(e.target.value) || 0)} data-testid="boottime-offset" />
            </label>
            <label className="block">
              <span className="mb-1 block text-sm text-slate-300">CLOCK_MONOTONIC offset (s)</span>
              <input className={input} type="number" step={1} value={form.monotonicOffset} onChange={(e) => set('monotonicOffset', Number(e.target.value) || 0)} data-testid="monotonic-offset" />
            </label>
            <p className="text-xs text-slate-400 md:col-span-2">Only these two clocks have offsets in a time namespace: `uptime` moves, `date` (CLOCK_REALTIME) never does.</p>
          </div>
        )}
      </fieldset>

      <fieldset className="rounded-lg border border-slate-800 p-3">
        <legend className="px-1 text-sm font-semibold text-slate-200">Limits (cgroups)</legend>
        {/* a learner's containers share their quota: no single one can be given more */}
        <Slider label="Memory" testId="memory" value={form.memoryMiB} min={0} max={learner ? Math.floor(learner.quota.memory / MiB) : 2048} step={16} onChange={(v) => set('memoryMiB', v)} format={(v) => (v ? bytes(v * MiB) : learner ? 'your quota' : 'no limit')} />
        <Slider label="CPUs" testId="cpus" value={form.cpus} min={0} max={learner ? learner.quota.cpus : Math.max(1, cpus)} step={0.1} onChange={(v) => set('cpus', Math.round(v * 10) / 10)} format={(v) => (v ? `${v.toFixed(1)} CPU` : learner ? 'your quota' : 'no limit')} />
        <Slider label="Processes (pids)" testId="pids" value={form.pids} min={0} max={learner ? learner.quota.pids : 1024} step={8} onChange={(v) => set('pids', v)} format={(v) => (v ? String(v) : learner ? 'your quota' : 'no limit')} />
      </fieldset>

      <div className="grid grid-cols-1 gap-3 md:grid-cols-2">
        <label className="block">
          <span className="mb-1 block text-sm text-slate-300">Network</span>
          <select className={input} value={form.network} onChange={(e) => set('network', e.target.value)} data-testid="network">
            <option value="bridge">bridge (own address behind NAT)</option>
            <option value="none">none (loopback only)</option>
            {!learner && <option value="host">host (the host&apos;s network stack)</option>}
          </select>
          {learner && <span className="mt-1 block text-xs text-slate-400">bridge is a network of your own: no other learner is on it</span>}
        </label>
        {!learner && (
          <label className="block">
            <span className="mb-1 block text-sm text-slate-300">Runtime</span>
            {/* every driver is listed; one that cannot run on this host is shown with its own error, not offered */}
            <select className={input} value={form.runtime} onChange={(e) => set('runtime', e.target.value)} data-testid="runtime">
              {(runtimes.length ? runtimes : [{ name: 'builtin', description: '', available: true, error: null }]).map((r) => (
                <option key={r.name} value={r.name} disabled={!r.available} title={r.error ?? r.description}>
                  {r.name}
                  {r.available ? '' : ' (unavailable)'}
                </option>
              ))}
            </select>
            <span className="mt-1 block text-xs text-slate-400" data-testid="runtime-note">
              {runtimes.find((r) => r.name === form.runtime)?.description}
              {runtimes.filter((r) => !r.available).map((r) => (
                <span key={r.name} className="block text-amber-300">
                  {r.name}: {r.error}
                </span>
              ))}
            </span>
          </label>
        )}
        <div>
          <Switch checked={form.init} onChange={(v) => set('init', v)} label="init" hint="a tiny init as PID 1: reaps zombies, forwards signals" testId="init" />
          <Switch checked={form.readOnlyRoot} onChange={(v) => set('readOnlyRoot', v)} label="read-only root" hint="the root filesystem is mounted read-only" testId="readonly" />
        </div>
      </div>

      {learner ? (
        <p className="rounded-lg border border-slate-800 p-3 text-xs text-slate-400" data-testid="learner-policy-note">
          Not in a learner&apos;s sandbox (the server refuses them, even from a pasted line): <b className="text-slate-300">--privileged</b>, the host&apos;s namespaces, bind mounts of host paths,
          chroot instead of pivot_root, other runtimes, capabilities beyond Docker&apos;s default set (and NET_RAW is dropped), ports outside your range.
        </p>
      ) : (
        <div className={`rounded-lg border p-3 ${privilegeRisks(config).length ? 'border-rose-500 bg-rose-950/40' : 'border-slate-800'}`}>
          <Switch danger checked={form.privileged} onChange={(v) => set('privileged', v)} label="privileged" hint="turns off most of the isolation" testId="privileged" />
          <PrivilegeWarning config={config} />
        </div>
      )}

      {pull && <PullProgress state={pull} />}

      {error && (
        <p className="rounded-md border border-rose-600 bg-rose-950/50 p-2 text-sm break-words text-rose-200" role="alert" data-testid="create-error" data-left={startFailure?.status ?? ''}>
          {error}
          {startFailure ? (
            <>
              {' '}
              <Link href={`/containers/${startFailure.id}`} className="font-semibold text-sky-300 underline" data-testid="create-error-open">
                Open {startFailure.name}
              </Link>
            </>
          ) : null}
        </p>
      )}

      <div className="flex items-center gap-3">
        <button type="submit" disabled={busy || !form.image || !!problem} className="rounded-md bg-sky-500 px-5 py-2 font-semibold text-slate-950 hover:bg-sky-400 disabled:opacity-50" data-testid="create">
          {busy ? (pull && !pull.done && !pull.error ? 'Pulling…' : 'Creating…') : 'Create'}
        </button>
        <button type="button" onClick={() => setShowJson((s) => !s)} className="text-sm text-slate-300 underline decoration-dotted">
          {showJson ? 'Hide' : 'Show'} the request
        </button>
        <button type="button" onClick={() => setForm((f) => defaultForm(f.image))} className="ml-auto text-sm text-slate-400 hover:text-slate-200">
          Reset
        </button>
      </div>
      {showJson && (
        <div>
          <p className="mb-1 text-xs text-slate-400">
            What the form sends (<code>POST /api/containers</code>). The engine turns it into an OCI <code>config.json</code>, shown on the container&apos;s page after it is created.
          </p>
          <pre className="max-h-80 overflow-auto rounded-md bg-slate-950 p-3 font-mono text-xs text-slate-200" data-testid="request-json">
            {JSON.stringify(config, null, 2)}
          </pre>
        </div>
      )}
    </form>
  );
}
