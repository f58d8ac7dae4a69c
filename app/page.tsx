'use client';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { ContainerList } from '@/components/ContainerList';
import { NewContainerForm } from '@/components/NewContainerForm';
import { SystemDiagrams } from '@/components/DiagramTabs';
import { api, channel } from '@/components/lib/client';
import { newSessionId } from '@/components/lib/terminal-sessions';
import { useLargeType } from '@/components/lib/use-large-type';
import { QuickTerminal, quickTerminalSize, type FreshContainer } from '@/components/QuickTerminal';
import { useContainers } from '@/components/lib/use-containers';
import { useWhoami } from '@/components/lib/classroom';
import { FirstVisitCard } from './labs/first-visit';

export default function Dashboard() {
  const router = useRouter();
  const { list, stats, connected, error } = useContainers();
  const [cpus, setCpus] = useState(4);
  const large = useLargeType();
  const me = useWhoami();
  const learner = me?.role === 'learner' ? me : undefined;
  // the container just made from the form: its shell takes the form's place
  const [fresh, setFresh] = useState<FreshContainer | null>(null);
  useEffect(() => {
    api<{ cpus: number }>('/api/info')
      .then((i) => setCpus(i.cpus))
      .catch(() => {});
    // get the terminals ready before they are needed: xterm's code, the terminal channel, the container page
    router.prefetch('/containers/_');
    void import('@xterm/xterm');
    void import('@xterm/addon-fit');
    channel('terminal');
  }, [router]);

  return (
    <div className="space-y-6">
      <FirstVisitCard />
      {/* a new container's shell gets a wider column than the form: 80 columns and more */}
      <div className={`grid grid-cols-1 gap-6 ${fresh ? 'xl:grid-cols-[minmax(0,1fr)_minmax(0,54rem)]' : 'xl:grid-cols-[minmax(0,1fr)_minmax(0,40rem)]'}`}>
        <section className="rounded-xl border border-slate-800 bg-slate-900/50">
          <div className="flex items-center gap-3 border-b border-slate-800 px-4 py-3">
            <h1 className="text-lg font-semibold">Containers</h1>
            <span className={`text-xs ${connected ? 'text-emerald-400' : 'text-amber-400'}`}>{connected ? '● live' : error ? `● ${error}` : '● connecting…'}</span>
          </div>
          <ContainerList list={list} stats={stats} />
        </section>
        <section className="rounded-xl border border-slate-800 bg-slate-900/50 p-4">
          <h2 className="mb-3 text-lg font-semibold">{fresh ? 'Your new container' : 'New container'}</h2>
          {fresh && <QuickTerminal fresh={fresh} large={large} onDone={() => setFresh(null)} />}
          {/* kept mounted while the shell shows: its settings are still there for the next one */}
          <div hidden={!!fresh}>
            <NewContainerForm
              cpus={cpus}
              learner={learner}
              onCreating={() => {
                const sessionId = newSessionId();
                setFresh({ sessionId, id: null, name: null });
                return { sessionId, ...quickTerminalSize(large) };
              }}
              onCreated={(rec) => setFresh((f) => (f ? { ...f, id: rec.id, name: rec.name } : f))}
              onFailed={() => setFresh(null)}
            />
          </div>
        </section>
      </div>
      {/* the system views read the whole host: a learner gets them once they are scoped to their own */}
      {me && !learner && <SystemDiagrams />}
    </div>
  );
}
