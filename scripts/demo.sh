#!/usr/bin/env bash
# The quickstart: builds a small data center on this machine out of network
# namespaces (2 racks x 2 hosts, a ToR router per rack, a border router, an
# "internet" host, etcd), then walks through what it shows. Run as root.
#   bash scripts/demo.sh          bring it up and take the tour
#   bash scripts/demo.sh down     remove everything it made
set -euo pipefail
cd "$(dirname "$0")/.."
LAB=bin/calico-lab
if [ "${1:-}" = "down" ]; then exec $LAB down demo; fi
bash scripts/install-deps.sh
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Building the data center (calico-lab up examples/lab/default.yaml)"
$LAB up examples/lab/default.yaml

say "The lab: routers, their BGP sessions, hosts (calico-lab status)"
sleep 3
$LAB status demo

say "Every hop is a router, no tunnel: traceroute from host1 (rack1) to host3 (rack2)"
$LAB exec host1 -- traceroute -n -q1 -w1 198.18.2.10

say "The API is data in etcd: apply example resources of every kind with calicoctl"
ETCD=http://198.18.255.1:2379
ctl() { ip netns exec cts-demo-mgmt env ETCD_ENDPOINTS=$ETCD bin/calicoctl "$@"; }
ctl apply -f examples/resources/
say "... and list them (calicoctl get ippools -o wide; get globalnetworkpolicies)"
ctl get ippools -o wide
ctl get globalnetworkpolicies

cat <<'MSG'

== Explore
  bin/calico-lab status                      routers, BGP sessions, routes per host
  bin/calico-lab exec host1 -- ip route      any command inside a host, router or workload
  ip netns exec cts-demo-mgmt env ETCD_ENDPOINTS=http://198.18.255.1:2379 bin/calicoctl get nodes
  bin/calico-lab plan                        the addressing plan
== Tear down
  bash scripts/demo.sh down                  (or: bin/calico-lab down)
MSG
