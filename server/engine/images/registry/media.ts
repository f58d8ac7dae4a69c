// The media types of the OCI image spec and Docker's v2 schema 2, and the platform choice in an
// index (a "fat" manifest list): the host's os/architecture unless asked otherwise.
export const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** Accept header of a manifest GET: all four kinds Glassbox reads. */
export const MANIFEST_ACCEPT = [MT.ociIndex, MT.ociManifest, MT.dockerList, MT.dockerManifest].join(', ');

export const isIndex = (mt: string | undefined): boolean => mt === MT.ociIndex || mt === MT.dockerList;
export const isManifest = (mt: string | undefined): boolean => mt === MT.ociManifest || mt === MT.dockerManifest;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
}

export interface IndexJson {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ManifestJson {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** Go's names for Node's: x64 → amd64, arm64 → arm64/v8, arm → arm/v7. */
export function hostPlatform(): Platform {
  switch (process.arch) {
    case 'x64':
      return { os: 'linux', architecture: 'amd64' };
    case 'arm64':
      return { os: 'linux', architecture: 'arm64', variant: 'v8' };
    case 'arm':
      return { os: 'linux', architecture: 'arm', variant: 'v7' };
    case 'ia32':
      return { os: 'linux', architecture: '386' };
    default:
      return { os: 'linux', architecture: process.arch };
  }
}

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** The manifest for `want` in an index, or null. arm64 without a variant counts as v8. */
export function pickPlatform(index: IndexJson, want: Platform): Descriptor | null {
  const norm = (p: Platform) => ({ ...p, variant: p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined) });
  const w = norm(want);
  const candidates = (index.manifests ?? []).filter((m) => {
    if (!m.platform || !(isManifest(m.mediaType) || isIndex(m.mediaType))) return false;
    const p = norm(m.platform);
    return p.os === w.os && p.architecture === w.architecture && (!w.variant || !p.variant || p.variant === w.variant);
  });
  // an exact variant match wins over a manifest that names none
  return candidates.find((m) => norm(m.platform!).variant === w.variant) ?? candidates[0] ?? null;
}
