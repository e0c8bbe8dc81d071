// A container image small enough to build at test time: Debian's static
// busybox in a folder (podman runs a folder with --rootfs) and the same
// folder as a one-layer OCI image archive (`ctr image import`). No registry
// is reachable here, so nothing is pulled.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Shell } from '../shell.js';

/** Where Debian's busybox-static puts its binary. */
export const BUSYBOX = '/bin/busybox';

/** The applets the lab's containers use (shell, addresses, probes, a server). */
const APPLETS = ['sh', 'ip', 'ping', 'ping6', 'nc', 'sleep', 'cat', 'wget', 'httpd', 'echo', 'hostname', 'traceroute'];

/** Builds `<dir>/rootfs`: busybox and its applets, the directories a runtime mounts over. */
export function buildBusyboxRootfs(dir: string): string {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: install Debian's busybox-static (scripts/install-deps.sh does)`);
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'run']) mkdirSync(join(rootfs, d), { recursive: true });
  const bin = join(rootfs, 'bin', 'busybox');
  if (!existsSync(bin)) copyFileSync(BUSYBOX, bin);
  for (const a of APPLETS) if (!existsSync(join(rootfs, 'bin', a))) symlinkSync('busybox', join(rootfs, 'bin', a));
  return rootfs;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The OCI documents of a one-layer image, given the layer's bytes (pure). */
export function ociImageDocuments(layer: Buffer, name: string): { config: Buffer; manifest: Buffer; index: Buffer; layerDigest: string; configDigest: string; manifestDigest: string } {
  const layerDigest = sha256(layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] } }));
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configDigest}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layer.length }],
    }),
  );
  const manifestDigest = sha256(manifest);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${manifestDigest}`, size: manifest.length, annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': 'latest' } }],
    }),
  );
  return { config, manifest, index, layerDigest, configDigest, manifestDigest };
}

/** Writes `<dir>/image.tar`, an OCI image layout archive of `rootfs` named `name`. */
export async function buildOciImage(shell: Shell, rootfs: string, dir: string, name: string): Promise<string> {
  const layout = join(dir, 'oci');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layerTar = join(dir, 'layer.tar');
  await shell.run(['tar', '-C', rootfs, '-cf', layerTar, '.']);
  const layer = readFileSync(layerTar);
  const docs = ociImageDocuments(layer, name);
  writeFileSync(join(blobs, docs.layerDigest), layer);
  writeFileSync(join(blobs, docs.configDigest), docs.config);
  writeFileSync(join(blobs, docs.manifestDigest), docs.manifest);
  writeFileSync(join(layout, 'index.json'), docs.index);
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const out = join(dir, 'image.tar');
  await shell.run(['tar', '-C', layout, '-cf', out, '.']);
  if (statSync(out).size < layer.length) throw new Error(`image archive ${out} is shorter than its layer`);
  return out;
}
