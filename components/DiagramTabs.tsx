'use client';
// The live diagrams on the dashboard's pages. Only the open tab is mounted, so only its diagram is
// fed (one socket.io subscription; the server polls only what someone watches).
//   <ContainerDiagrams id=…>  the container page: namespaces, layers, network, cgroups, mounts of one
//                            container, and its image (manifest, config, layers: not a live feed)
//   <SystemDiagrams>          the dashboard: the namespace picture and the network of every container
import { useRouter } from 'next/navigation';
import { useEffect, useState, type ReactNode } from 'react';
import CgroupDiagram from './diagrams/CgroupDiagram';
import MountDiagram from './diagrams/MountDiagram';
import { ImageView } from './ImageView';
import { api } from './lib/client';
import LayerDiagram from './diagrams/LayerDiagram';
import NamespaceDiagram from './diagrams/NamespaceDiagram';
import NetworkDiagram from './diagrams/NetworkDiagram';
import { useDiagramFeed } from './diagrams/useDiagramFeed';
import type { DiagramKind } from '../server/engine/inspect/types';

/** A tab: a live diagram, or the container's image (read once) */
type TabKind = DiagramKind | 'image';

const LABELS: Record<TabKind, { title: string; hint: string }> = {
  namespaces: { title: 'Namespaces', hint: 'which namespaces each process is in, from /proc' },
  layers: { title: 'Layers', hint: 'the image layers, the upper dir and what changed in it' },
  network: { title: 'Network', hint: 'bridge, veth pairs, addresses and live counters' },
  cgroups: { title: 'Cgroups', hint: 'usage against limits over the last minutes' },
  mounts: { title: 'Mounts', hint: "the container's mount tree from /proc/PID/mountinfo: propagation, overlay, binds, masked paths" },
  image: { title: 'Image', hint: 'the OCI manifest, config, layer digests and history' },
};

function FeedState({ error, updatedAt }: { error: string | null; updatedAt: number | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  if (error) return <span className="text-sm text-rose-300" data-testid="diagram-error">● {error}</span>;
  if (!updatedAt) return <span className="text-sm text-amber-300">● loading…</span>;
  const ago = Math.max(0, Math.round((now - updatedAt) / 1000));
  return (
    <span className="text-sm text-slate-400" data-testid="diagram-updated">
      <span className="text-emerald-400">●</span> updated {ago < 2 ? 'just now' : `${ago}s ago`}
    </span>
  );
}

function Tabs({ kinds, active, onPick, id }: { kinds: TabKind[]; active: TabKind; onPick: (k: TabKind) => void; id: string }) {
  return (
    <div className="flex flex-wrap gap-1" role="tablist" aria-label="diagrams">
      {kinds.map((k) => (
        <button
          key={k}
          type="button"
          role="tab"
          id={`${id}-tab-${k}`}
          aria-selected={active === k}
          aria-controls={`${id}-panel`}
          data-testid={`diagram-tab-${k}`}
          title={LABELS[k].hint}
          onClick={() => onPick(k)}
          className={`rounded-md px-4 py-1.5 text-base font-semibold ${active === k ? 'bg-sky-600 text-white' : 'border border-slate-700 text-slate-300 hover:bg-slate-800'}`}
        >
          {LABELS[k].title}
        </button>
      ))}
    </div>
  );
}

function Section({ title, sub, tabs, state, children, testId, id }: { title: string; sub: string; tabs: ReactNode; state: ReactNode; children: ReactNode; testId: string; id: string }) {
  return (
    <section id={id} data-testid={testId} className="rounded-xl border border-slate-800 bg-slate-900/50 p-4">
      <div className="mb-3 flex flex-wrap items-center gap-x-4 gap-y-2">
        <h2 className="text-xl font-semibold text-slate-100">{title}</h2>
        <span className="text-sm text-slate-400">{sub}</span>
        <div className="ml-auto flex flex-wrap items-center gap-3">
          {state}
          {tabs}
        </div>
      </div>
      <div id={`${id}-panel`} role="tabpanel">
        {children}
      </div>
    </section>
  );
}

/** Remembers the open tab per page in sessionStorage, so a reload keeps it. */
function useTab(key: string, kinds: TabKind[], initial: TabKind): [TabKind, (k: TabKind) => void] {
  const [tab, setTab] = useState<TabKind>(initial);
  useEffect(() => {
    try {
      const t = sessionStorage.getItem(key) as TabKind | null;
      if (t && kinds.includes(t)) setTab(t);
    } catch {
      /* no storage */
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const pick = (k: TabKind) => {
    setTab(k);
    try {
      sessionStorage.setItem(key, k);
    } catch {
      /* no storage */
    }
  };
  return [tab, pick];
}

// ---------------------------------------------------------------- one container

/** onSelect: what is picked in the diagram, in words (the classroom's broadcast shows it) */
type FeedProps = { id: string; stopped: boolean; onState: (e: string | null, t: number | null) => void; onSelect?: (what: string | null) => void };

function CNamespaces({ id, stopped, onState, onSelect }: FeedProps) {
  const f = useDiagramFeed('namespaces', id, { frozen: stopped, shows: (s) => s.processes.some((p) => p.containerId === id) });
  useEffect(() => onState(f.error, f.updatedAt), [f.error, f.updatedAt, onState]);
  return <NamespaceDiagram snapshot={f.snapshot} containerId={id} focus onSignal={signalProcess} onSelectProcess={(p) => onSelect?.(`process ${p.comm} (pid ${p.nspid[p.nspid.length - 1] ?? p.pid} inside, ${p.pid} on the host)`)} />;
}

/** The pid diagram's signal menu: POST …/processes/:pid/signal; the engine's answer in words. */
async function signalProcess(containerId: string, pid: number, signal: string): Promise<string> {
  const r = await api<{ signalName: string; pid: number; comm: string }>(`/api/containers/${encodeURIComponent(containerId)}/processes/${pid}/signal`, { body: { signal } });
  return `${r.signalName} sent to ${r.comm} (host pid ${r.pid})`;
}

function CMounts({ id, stopped, onState }: FeedProps) {
  const f = useDiagramFeed('mounts', id, { frozen: stopped });
  useEffect(() => onState(f.error, f.updatedAt), [f.error, f.updatedAt, onState]);
  return <MountDiagram snapshot={f.snapshot} />;
}

function CImage({ image, onState }: { image: string; onState: (e: string | null, t: number | null) => void }) {
  useEffect(() => onState(null, Date.now()), [onState]);
  return <ImageView imageRef={image} />;
}

function CLayers({ id, stopped, onState }: FeedProps) {
  const f = useDiagramFeed('layers', id, { frozen: stopped });
  useEffect(() => onState(f.error, f.updatedAt), [f.error, f.updatedAt, onState]);
  return <LayerDiagram snapshot={f.snapshot} onWhichLayer={f.whichLayer} />;
}

function CNetwork({ id, stopped, onState, onSelect }: FeedProps) {
  const f = useDiagramFeed('network', id, { frozen: stopped, shows: (s) => [...s.endpoints, ...s.isolated, ...s.hostStack, ...s.shared].some((e) => e.containerId === id) });
  const router = useRouter();
  useEffect(() => onState(f.error, f.updatedAt), [f.error, f.updatedAt, onState]);
  const nameOf = (cid: string) => [...(f.snapshot?.endpoints ?? []), ...(f.snapshot?.isolated ?? [])].find((e) => e.containerId === cid)?.name ?? cid.slice(0, 12);
  return <NetworkDiagram snapshot={f.snapshot} containerId={id} onSelectContainer={(cid) => onSelect?.(`container ${nameOf(cid)}`)} onOpenContainer={(other) => router.push(`/containers/${other}`)} />;
}

// the cgroup series of a stopped container stays on the server for its window (with its OOM kill
// and exit events): it stays live
function CCgroups({ id, onState }: FeedProps) {
  const f = useDiagramFeed('cgroups', id);
  useEffect(() => onState(f.error, f.updatedAt), [f.error, f.updatedAt, onState]);
  return <CgroupDiagram snapshot={f.snapshot} containerId={id} onLimitChange={f.setLimit} />;
}

const CONTAINER_KINDS: TabKind[] = ['namespaces', 'layers', 'network', 'cgroups', 'mounts', 'image'];

/**
 * stopped: the container ran and has stopped (exited, OOM-killed): the diagrams keep the last
 * picture taken while it ran, and say so; show: a tab to open (the cgroups after an OOM kill);
 * image: the image id or reference, for the Image tab
 */
export function ContainerDiagrams({ id, image, stopped = false, show, onView }: { id: string; image?: string; stopped?: boolean; show?: DiagramKind; onView?: (tab: string, selection: string | null) => void }) {
  const kinds = image ? CONTAINER_KINDS : CONTAINER_KINDS.filter((k) => k !== 'image');
  const [tab, setTabOnly] = useTab('glassbox.diagram.container', kinds, 'namespaces');
  const [selection, setSelection] = useState<string | null>(null);
  const setTab = (k: TabKind) => {
    setSelection(null);
    setTabOnly(k);
  };
  // the open tab and what is picked in it, for whoever shows this page elsewhere (the broadcast)
  useEffect(() => onView?.(tab, selection), [tab, selection, onView]);
  const [feed, setFeed] = useState<{ error: string | null; at: number | null }>({ error: null, at: null });
  const onState = useStableState(setFeed);
  const props = { id, stopped, onState, onSelect: setSelection };
  useEffect(() => {
    if (show) setTab(show);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [show]);
  return (
    <Section
      id="diagrams"
      testId="container-diagrams"
      title="Inside the kernel"
      sub={LABELS[tab].hint}
      state={<FeedState error={feed.error} updatedAt={feed.at} />}
      tabs={<Tabs id="diagrams" kinds={kinds} active={tab} onPick={setTab} />}
    >
      {stopped ? (
        <p className="mb-3 rounded-md border border-slate-700 bg-slate-900 px-3 py-2 text-sm text-slate-300" data-testid="diagrams-stopped">
          The container has stopped: the diagrams keep the last picture read while it ran (after a reload, the host as it is now); the cgroup charts keep its last minutes.
        </p>
      ) : null}
      {tab === 'namespaces' ? <CNamespaces key={`ns-${id}`} {...props} /> : null}
      {tab === 'layers' ? <CLayers key={`ly-${id}`} {...props} /> : null}
      {tab === 'network' ? <CNetwork key={`nw-${id}`} {...props} /> : null}
      {tab === 'cgroups' ? <CCgroups key={`cg-${id}`} {...props} /> : null}
      {tab === 'mounts' ? <CMounts key={`mt-${id}`} {...props} /> : null}
      {tab === 'image' && image ? <CImage key={`im-${image}`} image={image} onState={onState} /> : null}
    </Section>
  );
}

// ---------------------------------------------------------------- the whole system

function SNamespaces({ onState }: { onState: (e: string | null, t: number | null) => void }) {
  const f = useDiagramFeed('namespaces');
  useEffect(() => onState(f.error, f.updatedAt), [f.error, f.updatedAt, onState]);
  return <NamespaceDiagram snapshot={f.snapshot} onSignal={signalProcess} />;
}

function SNetwork({ onState }: { onState: (e: string | null, t: number | null) => void }) {
  const f = useDiagramFeed('network');
  const router = useRouter();
  useEffect(() => onState(f.error, f.updatedAt), [f.error, f.updatedAt, onState]);
  return <NetworkDiagram snapshot={f.snapshot} onOpenContainer={(id) => router.push(`/containers/${id}`)} />;
}

const SYSTEM_KINDS: TabKind[] = ['namespaces', 'network'];

export function SystemDiagrams() {
  const [tab, setTab] = useTab('glassbox.diagram.system', SYSTEM_KINDS, 'namespaces');
  const [feed, setFeed] = useState<{ error: string | null; at: number | null }>({ error: null, at: null });
  const onState = useStableState(setFeed);
  return (
    <Section
      id="system"
      testId="system-diagrams"
      title="System"
      sub={tab === 'namespaces' ? 'every namespace on the host and who is in it' : 'the host stack, the bridges and every container link'}
      state={<FeedState error={feed.error} updatedAt={feed.at} />}
      tabs={<Tabs id="system" kinds={SYSTEM_KINDS} active={tab} onPick={setTab} />}
    >
      {tab === 'namespaces' ? <SNamespaces onState={onState} /> : <SNetwork onState={onState} />}
    </Section>
  );
}

function useStableState(set: (v: { error: string | null; at: number | null }) => void) {
  const [cb] = useState(() => (error: string | null, at: number | null) => set({ error, at }));
  return cb;
}
