// Image summaries/details → Docker's JSON for images, image inspect and history.
import type { ImageDetail, ImageSummary } from '../../engine/index.js';

const unix = (iso: string) => Math.floor(Date.parse(iso) / 1000) || 0;

export function imageSummaryJson(img: ImageSummary) {
  return {
    Id: img.id,
    ParentId: '',
    RepoTags: img.repoTags,
    RepoDigests: [],
    Created: unix(img.created),
    Size: img.size,
    SharedSize: -1,
    VirtualSize: img.size,
    Labels: {},
    Containers: -1,
  };
}

export function imageInspectJson(img: ImageDetail) {
  const cfg = img.config as { config?: Record<string, unknown>; architecture?: string; os?: string; author?: string };
  const inner = cfg.config ?? {};
  return {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: [],
    Parent: '',
    Comment: '',
    Created: img.created,
    DockerVersion: '',
    Author: cfg.author ?? '',
    Config: {
      Hostname: '',
      Domainname: '',
      User: (inner.User as string) ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: (inner.Env as string[]) ?? null,
      Cmd: (inner.Cmd as string[]) ?? null,
      Image: '',
      // what a Dockerfile set (build/builder.ts): EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL
      ...(inner.ExposedPorts ? { ExposedPorts: inner.ExposedPorts } : {}),
      Volumes: (inner.Volumes as Record<string, object>) ?? null,
      WorkingDir: (inner.WorkingDir as string) ?? '',
      Entrypoint: (inner.Entrypoint as string[]) ?? null,
      OnBuild: (inner.OnBuild as string[]) ?? null,
      Labels: (inner.Labels as Record<string, string>) ?? null,
      ...(inner.StopSignal ? { StopSignal: inner.StopSignal } : {}),
      ...(inner.Healthcheck ? { Healthcheck: inner.Healthcheck } : {}),
      ...(inner.Shell ? { Shell: inner.Shell } : {}),
    },
    Architecture: cfg.architecture ?? 'amd64',
    Os: cfg.os ?? 'linux',
    Size: img.size,
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        // bottom first in layerDetails; overlay's lowerdir lists the top layer first
        LowerDir: img.layerDetails.slice(0, -1).reverse().map((l) => l.dir).join(':') || undefined,
        UpperDir: img.layerDetails.at(-1)?.dir ?? '',
        MergedDir: '',
        WorkDir: '',
      },
    },
    RootFS: { Type: 'layers', Layers: img.layerDetails.map((l) => l.diffId) },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
    Descriptor: img.manifestDigest ? { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.manifestDigest, size: 0 } : undefined,
  };
}

/** newest first, as Docker prints it */
export function imageHistoryJson(img: ImageDetail) {
  const rows = img.history.map((h, i) => ({
    Id: i === img.history.length - 1 ? img.id : h.id || '<missing>',
    Created: unix(h.created),
    CreatedBy: h.createdBy,
    Tags: i === img.history.length - 1 ? img.repoTags : null,
    Size: h.size,
    Comment: '',
  }));
  if (rows.length === 0) {
    rows.push({ Id: img.id, Created: unix(img.created), CreatedBy: '', Tags: img.repoTags, Size: img.size, Comment: '' });
  }
  return rows.reverse();
}
