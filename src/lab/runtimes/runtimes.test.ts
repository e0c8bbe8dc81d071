// The runtimes' configuration (pure parts): what podman and containerd are
// told, and the script that gives ctr private CNI folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerdConfig, ctrScript, pluginLinks } from './containerd.js';
import { ociImageDocuments } from './image.js';
import { podmanContainersConf } from './podman.js';
import { inHostNetns } from './netns.js';

test('podman: CNI backend with our plugin folders first, runc on cgroupfs, every state file under its folder', () => {
  const conf = podmanContainersConf({ dir: '/s/podman', cniPath: ['/repo/bin', '/usr/lib/cni'] });
  assert.match(conf, /^network_backend = "cni"$/m);
  assert.match(conf, /^cni_plugin_dirs = \["\/repo\/bin", "\/usr\/lib\/cni"\]$/m);
  assert.match(conf, /^network_config_dir = "\/s\/podman\/cni"$/m);
  assert.match(conf, /^runtime = "runc"$/m);
  assert.match(conf, /^cgroup_manager = "cgroupfs"$/m);
  for (const [, path] of conf.matchAll(/= "(\/[^"]*)"$/gm)) if (!path!.startsWith('/usr/lib')) assert.ok(path!.startsWith('/s/podman/'), `${path} is outside the runtime's folder`);
});

test('containerd: no CRI, socket, state and opt folder under its folder', () => {
  const conf = containerdConfig('/s/ctd');
  assert.match(conf, /disabled_plugins = \["io\.containerd\.grpc\.v1\.cri"\]/);
  assert.match(conf, /address = "\/s\/ctd\/containerd\.sock"/);
  assert.match(conf, /\[plugins\."io\.containerd\.internal\.v1\.opt"\]\n {2}path = "\/s\/ctd\/opt"/);
  assert.match(conf, /^root = "\/s\/ctd\/root"$/m);
  assert.match(conf, /^state = "\/s\/ctd\/state"$/m);
});

test('ctr: plugins linked first folder first, the network bound over /etc/cni/net.d, all in a private mount namespace', () => {
  const listings: Record<string, string[]> = { '/repo/bin': ['calico', 'calico-ipam'], '/usr/lib/cni': ['calico', 'loopback', 'portmap'] };
  const links = pluginLinks(['/repo/bin', '/usr/lib/cni'], (d) => listings[d] ?? []);
  assert.deepEqual([...links], [['calico', '/repo/bin/calico'], ['calico-ipam', '/repo/bin/calico-ipam'], ['loopback', '/usr/lib/cni/loopback'], ['portmap', '/usr/lib/cni/portmap']]);
  const script = ctrScript('/s/ctd/cni', links, ['ctr', '-a', '/s/ctd/containerd.sock', 'run', '--cni', "it's", 'id']).split('\n');
  // Private first, then the tmpfs: nothing of this reaches the machine's own mounts.
  assert.deepEqual(script.slice(0, 4), ['set -e', 'mount --make-rprivate /', 'mount -t tmpfs calico-ts-cni /opt', 'mkdir -p /opt/cni/bin']);
  assert.ok(script.includes("ln -s '/repo/bin/calico' '/opt/cni/bin/calico'"));
  assert.ok(script.includes("mount --bind '/s/ctd/cni' /etc/cni/net.d"));
  assert.equal(script.at(-1), `exec 'ctr' '-a' '/s/ctd/containerd.sock' 'run' '--cni' 'it'\\''s' 'id'`);
});

test('runtimes enter only the host network namespace (ip netns exec would hide the cgroup mounts)', () => {
  assert.deepEqual(inHostNetns('cts-h1', ['podman', 'ps']), ['nsenter', '--net=/var/run/netns/cts-h1', 'podman', 'ps']);
});

test('OCI image: digests chain layer -> config -> manifest -> index', () => {
  const docs = ociImageDocuments(Buffer.from('layer bytes'), 'localhost/busybox:latest');
  const config = JSON.parse(docs.config.toString());
  assert.deepEqual(config.rootfs.diff_ids, [`sha256:${docs.layerDigest}`]);
  const manifest = JSON.parse(docs.manifest.toString());
  assert.equal(manifest.config.digest, `sha256:${docs.configDigest}`);
  assert.equal(manifest.config.size, docs.config.length);
  assert.equal(manifest.layers[0].size, 'layer bytes'.length);
  const index = JSON.parse(docs.index.toString());
  assert.equal(index.manifests[0].digest, `sha256:${docs.manifestDigest}`);
  assert.equal(index.manifests[0].annotations['io.containerd.image.name'], 'localhost/busybox:latest');
});
