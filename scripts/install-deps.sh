#!/usr/bin/env bash
# Installs what calico-ts needs on Debian 12 and builds it. Safe to run twice.
# Needs root for apt-get (skipped when every tool is already present).
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
declare -A NEED=(
  [etcd]=etcd-server [etcdctl]=etcd-client [bird]=bird2 [birdc]=bird2
  [nft]=nftables [iptables]=iptables [ipset]=ipset [conntrack]=conntrack
  [ip]=iproute2 [ping]=iputils-ping [traceroute]=traceroute [tcpdump]=tcpdump
  [gobgpd]=gobgpd [iperf3]=iperf3 [openssl]=openssl [python3]=python3 [curl]=curl [nsenter]=util-linux
  # Container runtimes the kernel tests run through our CNI plugins, and their image.
  [podman]=podman [runc]=runc [containerd]=containerd [ctr]=containerd [busybox]=busybox-static [dockerd]=docker.io
  # VMs: QEMU (TCG) for a real guest, dnsmasq for calico-dhcp-agent, cpio for the guest's initramfs.
  [qemu-system-x86_64]=qemu-system-x86 [dnsmasq]=dnsmasq-base [cpio]=cpio
  # The 464-XLAT translator (bpf/xlat): clang builds it, bpftool loads and pins it.
  [clang]=clang [llc]=llvm [bpftool]=bpftool
)
missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "/usr/bin/$cmd" ] || missing+=("${NEED[$cmd]}")
done
# The reference CNI plugins (portmap, tuning, bandwidth ...) that the CNI tests chain after calico.
[ -x /usr/lib/cni/portmap ] || missing+=(containernetworking-plugins)
# Headers for the translator (libbpf) and its test runner (libc).
[ -e /usr/include/bpf/bpf_helpers.h ] || missing+=(libbpf-dev)
[ -e /usr/include/stdio.h ] || missing+=(libc6-dev)
# A kernel with modules for the VM test's guest (the machine's own kernel may not be in /boot).
ls /boot/vmlinuz-* >/dev/null 2>&1 || missing+=(linux-image-cloud-amd64)
if [ "${#missing[@]}" -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "==> installing Debian packages: $pkgs"
  if [ "$(id -u)" -ne 0 ]; then echo "need root to install: $pkgs (run as root or install them)" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  # Packages must not start their services (containerd, docker, etcd ...): a
  # daemon started here would run in the machine's own network namespace.
  # policy-rc.d answering 101 is Debian's way to say "do not start". Our tests
  # and the lab start their own etcd, containerd ... inside namespaces.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "==> building (tsc)"
npx tsc -p tsconfig.json
echo "==> building the 464-XLAT translator (clang, BPF)"
bash bpf/xlat/build.sh
