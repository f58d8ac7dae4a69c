'use client';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { ContainerList } from '@/components/ContainerList';
import { NewContainerForm } from '@/components/NewContainerForm';
import { SystemDiagrams } from '@/components/DiagramTabs';
import { api, channel } from '@/components/lib/client';
import { useContainers } from '@/components/lib/use-containers';

export default function Dashboard() {
  const router = useRouter();
  const { list, stats, connected, error } = useContainers();
  const [cpus, setCpus] = useState(4);
  useEffect(() => {
    api<{ cpus: number }>('/api/info')
      .then((i) => setCpus(i.cpus))
      .catch(() => {});
    // get the container page ready before it is needed: its code, xterm, the terminal channel
    router.prefetch('/containers/_');
    void import('@xterm/xterm');
    void import('@xterm/addon-fit');
    channel('terminal');
  }, [router]);

  return (
    <div className="space-y-6">
      <div className="grid grid-cols-1 gap-6 xl:grid-cols-[minmax(0,1fr)_minmax(0,40rem)]">
        <section className="rounded-xl border border-slate-800 bg-slate-900/50">
          <div className="flex items-center gap-3 border-b border-slate-800 px-4 py-3">
            <h1 className="text-lg font-semibold">Containers</h1>
            <span className={`text-xs ${connected ? 'text-emerald-400' : 'text-amber-400'}`}>{connected ? '● live' : error ? `● ${error}` : '● connecting…'}</span>
          </div>
          <ContainerList list={list} stats={stats} />
        </section>
        <section className="rounded-xl border border-slate-800 bg-slate-900/50 p-4">
          <h2 className="mb-3 text-lg font-semibold">New container</h2>
          <NewContainerForm cpus={cpus} onCreated={(id) => router.push(`/containers/${id}`)} />
        </section>
      </div>
      <SystemDiagrams />
    </div>
  );
}
