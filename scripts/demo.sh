#!/usr/bin/env bash
# The quickstart: builds a small data center on this machine out of network
# namespaces (2 racks x 2 hosts, a ToR router per rack, a border router, an
# "internet" host, etcd, calico-node + BIRD on every host, 5 workloads in two
# namespaces), then walks through what it shows. Run as root.
#   bash scripts/demo.sh          bring it up and take the tour (about a minute)
#   bash scripts/demo.sh down     remove everything it made
set -euo pipefail
cd "$(dirname "$0")/.."
LAB=bin/calico-lab
if [ "${1:-}" = "down" ]; then exec $LAB down demo; fi
bash scripts/install-deps.sh
say() { printf '\n\033[1m== %s\033[0m\n' "$1"; [ -z "${2:-}" ] || printf '%s\n' "$2"; }
v4() { $LAB exec "$1" -- ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1; }

say "1. Building the data center" "calico-lab up: namespaces, links, etcd, BIRD routers, calico-node per host, workloads."
$LAB up examples/lab/default.yaml

say "2. The lab" "Each host's BIRD peers with its rack's ToR (route reflector); ToRs peer with the border (eBGP)."
for i in $(seq 1 30); do [ "$($LAB status | grep -c ' 6/6 BGP')" -ge 3 ] && break; sleep 1; done
$LAB status
echo; echo "host1's view of its BGP sessions (calicoctl node status):"
CALICO_RUN_DIR=/run/calico-lab/demo/nodes/host1 bin/calicoctl node status

say "3. Connectivity matrix, no policy" "Every workload to every workload and the internet host: TCP 80/5432, UDP 5353, ICMP."
for i in $(seq 1 20); do $LAB probe --probes icmp --expect examples/lab/open-expect.yaml >/dev/null 2>&1 && break; sleep 1; done
$LAB probe --expect examples/lab/open-expect.yaml

say "4. Every hop is a router, no tunnel" "traceroute from web-1 (host1, rack1) to web-2 (host3, rack2):"
$LAB exec web-1 -- traceroute -n -q1 -w1 "$(v4 web-2)"

say "5. Policy is data" "Applying examples/lab/policy.yaml: only web may reach db (TCP 5432); web takes TCP 80 from anyone and anything from prod."
sed -n '/^apiVersion/,$p' examples/lab/policy.yaml | head -16
$LAB calicoctl apply -f - < examples/lab/policy.yaml
sleep 2
$LAB probe --expect examples/lab/policy-expect.yaml

say "6. Anti-spoofing" "client-1 pings public-1 from an address that is not its own: its host drops the packets."
$LAB exec client-1 -- ip addr add 198.19.250.250/32 dev eth0
$LAB exec client-1 -- ping -c 2 -W 1 -I 198.19.250.250 "$(v4 public-1)" || true
$LAB exec client-1 -- ip addr del 198.19.250.250/32 dev eth0
echo "... and from its own address it works:"
$LAB exec client-1 -- ping -c 1 -W 1 "$(v4 public-1)" | head -2

say "7. natOutgoing" "web-1 is in the private pool (natOutgoing): the internet host sees web-1's host. public-1 is in the public pool: seen as itself."
echo "internet sees web-1 as:    $($LAB exec web-1 -- node dist/src/lab/probe-agent.js whoami 203.0.113.10 80)"
echo "internet sees public-1 as: $($LAB exec public-1 -- node dist/src/lab/probe-agent.js whoami 203.0.113.10 80)"
echo "the internet's routes (the border announces the fabric and the public pool only):"
$LAB exec internet -- ip route | grep -v 'proto kernel'

say "8. A picture" ""
$LAB graph

cat <<'MSG'

== Explore
  bin/calico-lab status                          routers, sessions, agents, routes, workloads
  bin/calico-lab exec host1 -- ip route          any command in a host, router or workload
  bin/calico-lab exec host1 -- nft list ruleset  the policy calico-node programmed
  bin/calico-lab calicoctl get gnp -o yaml       calicoctl against the lab's etcd
  bin/calico-lab calicoctl ipam show --show-blocks
  bin/calico-lab probe --family 6                the matrix over IPv6
  bin/calico-lab restart host1 calico-node       restart an agent (traffic keeps flowing)
  bin/calico-lab --help
== Tear down
  bash scripts/demo.sh down                      (or: bin/calico-lab down)
MSG
