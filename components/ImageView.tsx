'use client';
// The image view: an image as the OCI image spec lays it out. The manifest (what a reference
// points at) lists the config and the layer blobs by digest; the config (whose digest is the image
// id) lists rootfs.diff_ids, the digests of the uncompressed layers, and the history, where a
// step with empty_layer (ENV, CMD…) made no layer. Each layer row puts its blob digest beside its
// diff_id: equal for an uncompressed layer, different for a gzip one.
import { useEffect, useState } from 'react';
import type { ImageView as ImageViewData } from '../server/engine/images/view';
import { api } from './lib/client';
import { bytes, shortId } from './lib/format';

function Digest({ d, label }: { d: string; label: string }) {
  return (
    <span className="font-mono text-slate-200" title={`${label}: ${d}`}>
      {d.startsWith('sha256:') ? `sha256:${d.slice(7, 19)}…` : d}
    </span>
  );
}

export function ImageView({ imageRef, data }: { imageRef: string; data?: ImageViewData }) {
  const [view, setView] = useState<ImageViewData | null>(data ?? null);
  const [error, setError] = useState<string | null>(null);
  const [raw, setRaw] = useState<'manifest' | 'config' | null>(null);
  useEffect(() => {
    if (data) return;
    setView(null);
    api<ImageViewData>(`/api/images/${encodeURIComponent(imageRef)}/view`)
      .then((v) => {
        setView(v);
        setError(null);
      })
      .catch((e) => setError((e as Error).message));
  }, [imageRef, data]);

  if (error) return <p className="p-4 text-rose-300" role="alert" data-testid="image-view-error">{error}</p>;
  if (!view) return <p className="p-4 text-slate-400">Reading the manifest and config…</p>;
  const cfg = view.config as { architecture?: string; os?: string; created?: string; config?: { Env?: string[]; Cmd?: string[] | null; Entrypoint?: string[] | null; WorkingDir?: string; User?: string } };
  return (
    <div data-testid="image-view" className="space-y-4 rounded-lg border border-slate-700 bg-slate-950 p-4 text-sm text-slate-200">
      <div className="flex flex-wrap items-baseline gap-x-4 gap-y-1">
        <h3 className="text-lg font-semibold">{view.repoTags.join(', ') || view.ref}</h3>
        <span>
          image id <Digest d={view.id} label="image id = digest of the config blob" />
        </span>
        <span>
          manifest <Digest d={view.manifestDigest} label="manifest digest" />
        </span>
        <span className="text-slate-400">
          {cfg.os}/{cfg.architecture} · {view.layers.length} layers · {bytes(view.size)}
        </span>
      </div>
      {view.warnings.length ? (
        <p className="text-amber-300" role="alert">
          {view.warnings.join('; ')}
        </p>
      ) : null}
      <div className="grid gap-2 text-slate-300 md:grid-cols-2">
        <div>
          <span className="text-slate-400">Entrypoint</span> <span className="font-mono">{JSON.stringify(cfg.config?.Entrypoint ?? null)}</span>
        </div>
        <div>
          <span className="text-slate-400">Cmd</span> <span className="font-mono">{JSON.stringify(cfg.config?.Cmd ?? null)}</span>
        </div>
        <div>
          <span className="text-slate-400">WorkingDir</span> <span className="font-mono">{cfg.config?.WorkingDir || '/'}</span>
        </div>
        <div>
          <span className="text-slate-400">User</span> <span className="font-mono">{cfg.config?.User || 'root (unset)'}</span>
        </div>
        <div className="md:col-span-2 break-all">
          <span className="text-slate-400">Env</span> <span className="font-mono">{(cfg.config?.Env ?? []).join('  ')}</span>
        </div>
      </div>

      <section>
        <h4 className="mb-1 font-semibold">Layers (manifest.layers beside config.rootfs.diff_ids), bottom first</h4>
        <div className="overflow-x-auto">
          <table className="w-full text-left" data-testid="image-layers">
            <thead className="text-slate-400">
              <tr className="border-b border-slate-800">
                <th className="py-1 pr-3">#</th>
                <th className="py-1 pr-3">blob digest</th>
                <th className="py-1 pr-3">diff_id (uncompressed)</th>
                <th className="py-1 pr-3">media type</th>
                <th className="py-1 pr-3 text-right">blob size</th>
                <th className="py-1">created by</th>
              </tr>
            </thead>
            <tbody>
              {view.layers.map((l) => (
                <tr key={l.index} className="border-b border-slate-800/60 align-top" data-testid={`image-layer-${l.index}`}>
                  <td className="py-1 pr-3 tabular-nums">{l.index}</td>
                  <td className="py-1 pr-3">
                    <Digest d={l.digest} label="blob digest" />
                  </td>
                  <td className="py-1 pr-3">
                    <Digest d={l.diffId} label="diff_id" />
                    {l.digest === l.diffId ? <span className="ml-1 text-xs text-slate-400">(same: stored uncompressed)</span> : null}
                  </td>
                  <td className="py-1 pr-3 font-mono text-xs text-slate-300">{l.mediaType.replace('application/vnd.', '')}</td>
                  <td className="py-1 pr-3 text-right tabular-nums">{bytes(l.size)}</td>
                  <td className="py-1 font-mono text-xs text-slate-300 break-all">{l.createdBy || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section>
        <h4 className="mb-1 font-semibold">History (config.history)</h4>
        <ol className="space-y-1" data-testid="image-history">
          {view.history.map((h, i) => (
            <li key={i} className={`font-mono text-xs ${h.emptyLayer ? 'text-slate-400' : 'text-slate-200'}`}>
              <span className="inline-block w-28 text-slate-400">{h.emptyLayer ? 'empty_layer' : `→ layer ${h.layerIndex}`}</span>
              <span className="break-all">{h.createdBy || '(no created_by)'}</span>
              {h.created ? <span className="ml-2 text-slate-400">{h.created.slice(0, 19).replace('T', ' ')}</span> : null}
            </li>
          ))}
          {!view.history.length ? <li className="text-slate-400">no history in the config</li> : null}
        </ol>
      </section>

      <section>
        <div className="flex gap-2">
          <button type="button" data-testid="image-raw-manifest" className="rounded border border-slate-600 px-2 py-0.5 hover:bg-slate-800" aria-pressed={raw === 'manifest'} onClick={() => setRaw(raw === 'manifest' ? null : 'manifest')}>
            manifest JSON
          </button>
          <button type="button" data-testid="image-raw-config" className="rounded border border-slate-600 px-2 py-0.5 hover:bg-slate-800" aria-pressed={raw === 'config'} onClick={() => setRaw(raw === 'config' ? null : 'config')}>
            config JSON
          </button>
          <span className="self-center text-xs text-slate-400">{raw ? `blob ${shortId(raw === 'manifest' ? view.manifestDigest.slice(7) : view.id.slice(7))}… from the content store` : ''}</span>
        </div>
        {raw ? (
          <pre data-testid="image-raw" className="mt-2 max-h-96 overflow-auto rounded bg-slate-900 p-3 font-mono text-xs text-slate-200">
            {JSON.stringify(raw === 'manifest' ? view.manifest : view.config, null, 2)}
          </pre>
        ) : null}
      </section>
    </div>
  );
}
