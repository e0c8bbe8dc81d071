// Every field of Calico's CNI plugin configuration (cni-plugin/pkg/types
// NetConf, plus the spec's well-known keys) and what calico-ts does with it.
// config.ts acts on this table (refusing, logging the ignored ones);
// docs/cni.md renders it (src/cni/docs.test.ts keeps the two in step).

export type FieldStatus = 'honoured' | 'refused' | 'ignored';

export interface FieldRule {
  field: string;
  status: FieldStatus;
  /** What we do (honoured), why not and the fix (refused), or why it does not matter (ignored). */
  note: string;
}

/** Calico's NetConf fields (and the spec's well-known ones), in the order of Calico's struct. */
export const CALICO_FIELDS: FieldRule[] = [
  { field: 'cniVersion', status: 'honoured', note: '0.3.0 to 1.1.0; echoed in the result; other versions are error 1' },
  { field: 'name', status: 'honoured', note: 'network name: IPAM handle `<name>.<containerID>`, profile of `cni` workloads' },
  { field: 'type', status: 'honoured', note: '`calico` (error 7 otherwise)' },
  { field: 'mode', status: 'refused', note: 'VXLAN/IPIP modes: calico-ts routes without encapsulation; remove `mode`' },
  { field: 'vxlan_mac_prefix', status: 'ignored', note: 'Windows VXLAN only' },
  { field: 'vxlan_vni', status: 'ignored', note: 'Windows VXLAN only' },
  { field: 'ipam', status: 'honoured', note: 'see the ipam table' },
  { field: 'qps', status: 'ignored', note: 'Kubernetes API client rate; there is no Kubernetes client' },
  { field: 'burst', status: 'ignored', note: 'Kubernetes API client rate; there is no Kubernetes client' },
  { field: 'args', status: 'honoured', note: '`args.cni.labels`, `args.cni.ips`, Mesos `args["org.apache.mesos"].network_info.labels`, `args["projectcalico.org"].ports`' },
  { field: 'mtu', status: 'honoured', note: 'MTU of both veth ends; else /var/lib/calico/mtu if present; else the kernel default (1500)' },
  { field: 'num_queues', status: 'honoured', note: 'TX/RX queues of the veth (default 1)' },
  { field: 'nodename', status: 'honoured', note: 'the Node the workload is on (first choice)' },
  { field: 'nodename_file', status: 'honoured', note: 'file with the node name, second choice; default /var/lib/calico/nodename, else /var/run/calico/nodename (calico-node writes <CALICO_RUN_DIR>/nodename)' },
  { field: 'ipam_lock_file', status: 'ignored', note: 'Calico serialises IPAM per host with it; calico-ts IPAM is compare-and-swap only and safe without it' },
  { field: 'nodename_file_optional', status: 'honoured', note: 'false (default): the nodename file must exist (calico-node has run on this host)' },
  { field: 'datastore_type', status: 'honoured', note: '`etcdv3` (or absent); `kubernetes` and others are refused' },
  { field: 'etcd_endpoints', status: 'honoured', note: 'comma list of http(s) URLs; else ETCD_ENDPOINTS; else http://127.0.0.1:2379' },
  { field: 'etcd_discovery_srv', status: 'refused', note: 'DNS SRV discovery is not implemented; list the members in etcd_endpoints' },
  { field: 'log_level', status: 'honoured', note: 'debug, info, warning, error (stderr and log_file_path)' },
  { field: 'log_file_path', status: 'honoured', note: 'log lines are appended to this file as well' },
  { field: 'log_file_max_size', status: 'ignored', note: 'no rotation: the file is appended to (rotate it with logrotate)' },
  { field: 'log_file_max_age', status: 'ignored', note: 'no rotation (see log_file_max_size)' },
  { field: 'log_file_max_count', status: 'ignored', note: 'no rotation (see log_file_max_size)' },
  { field: 'policy', status: 'refused', note: '`type: k8s` makes Calico read pod labels, ports and service account from the Kubernetes API, which calico-ts has no client for; remove `policy` (pods get profile kns.<namespace> and the labels in args.cni.labels). `type` empty is accepted' },
  { field: 'kubernetes', status: 'ignored', note: 'kubeconfig / API root: there is no Kubernetes client' },
  { field: 'feature_control', status: 'honoured', note: '`ip_addrs_no_ipam: true` lets the pod annotation `cni.projectcalico.org/ipAddrsNoIpam` give addresses that bypass IPAM (refused without it); `floating_ips: true` is refused (no floating IPs)' },
  { field: 'etcd_scheme', status: 'refused', note: 'write the scheme into etcd_endpoints (https://host:2379)' },
  { field: 'etcd_key_file', status: 'honoured', note: 'client key for etcd TLS (with etcd_cert_file); else ETCD_KEY_FILE' },
  { field: 'etcd_cert_file', status: 'honoured', note: 'client certificate for etcd TLS; else ETCD_CERT_FILE' },
  { field: 'etcd_ca_cert_file', status: 'honoured', note: 'CA for etcd TLS; else ETCD_CA_CERT_FILE' },
  { field: 'container_settings', status: 'honoured', note: '`allow_ip_forwarding`: IP forwarding inside the container on (true) or off (false, default)' },
  { field: 'include_default_routes', status: 'honoured', note: 'with `ipam.routes`: add the default routes as well' },
  { field: 'dataplane_options', status: 'refused', note: 'the gRPC dataplane is not implemented; remove it' },
  { field: 'device_type', status: 'honoured', note: '`veth` (or empty); `netkit` falls back to veth as Calico does on kernels without it; others refused' },
  { field: 'windows_pod_deletion_timestamp_timeout', status: 'ignored', note: 'Windows only' },
  { field: 'windows_use_single_network', status: 'ignored', note: 'Windows only' },
  { field: 'windows_disable_default_deny_all_policy', status: 'ignored', note: 'Windows only' },
  { field: 'windows_loopback_DSR', status: 'ignored', note: 'Windows only' },
  { field: 'runtimeConfig', status: 'honoured', note: '`portMappings` become the endpoint\'s host ports; `dns` overrides the result\'s dns; `io.kubernetes.cri.pod-annotations` (containerd, CRI-O) are the pod\'s annotations: `cni.projectcalico.org/ipAddrsNoIpam` and `cni.projectcalico.org/addressSpace` are honoured, Calico\'s other `cni.projectcalico.org/*` ones refused' },
  { field: 'readiness_gates', status: 'honoured', note: 'URLs polled (every 5 s, at most 30 s each) until they answer 2xx/3xx before ADD goes on' },
  { field: 'policy_setup_timeout_seconds', status: 'honoured', note: 'ADD waits up to this long for calico-node to program the endpoint (its status file); 0 = no wait' },
  { field: 'endpoint_status_dir', status: 'honoured', note: 'where calico-node writes endpoint status files (default /var/run/calico/endpoint-status)' },
  { field: 'etcd_authority', status: 'refused', note: 'use etcd_endpoints' },
  { field: 'hostname', status: 'honoured', note: 'deprecated node name (after nodename_file, before the host name)' },
  { field: 'require_mtu_file', status: 'honoured', note: 'true: /var/lib/calico/mtu must exist when mtu is not set' },
  { field: 'calico_api_group', status: 'ignored', note: 'Kubernetes CRD group; etcd only' },
  { field: 'dns', status: 'honoured', note: 'the spec\'s dns (nameservers, domain, search, options) is returned in the result' },
  { field: 'ipMasq', status: 'refused', note: 'true: masquerading is per IPPool in Calico (natOutgoing); false is accepted' },
  { field: 'prevResult', status: 'honoured', note: 'ADD: appended to (chaining); CHECK: compared with; DEL: not needed' },
  { field: 'capabilities', status: 'ignored', note: 'runtime-side only: it fills runtimeConfig from it' },
  { field: 'address_space', status: 'honoured', note: 'calico-ts extension: every workload of this network is in this AddressSpace (docs/xlat.md); its IPv4 address comes from `cni.projectcalico.org/ipAddrsNoIpam`; the endpoint gets `spec.addressSpace`' },
  { field: 'cni.dev/valid-attachments', status: 'honoured', note: 'GC: attachments not listed are released' },
];

/** ipam.* for calico-ipam (other IPAM plugins get the whole config and read their own fields). */
export const CALICO_IPAM_FIELDS: FieldRule[] = [
  { field: 'ipam.type', status: 'honoured', note: '`calico-ipam` in-process; any other plugin is run from CNI_PATH as a delegate' },
  { field: 'ipam.assign_ipv4', status: 'honoured', note: '"true" (default) / "false"' },
  { field: 'ipam.assign_ipv6', status: 'honoured', note: '"true" / "false" (default)' },
  { field: 'ipam.ipv4_pools', status: 'honoured', note: 'IPv4 pools (name or CIDR) to take addresses from; each must exist' },
  { field: 'ipam.ipv6_pools', status: 'honoured', note: 'IPv6 pools (name or CIDR)' },
  { field: 'ipam.subnet', status: 'ignored', note: 'host-local\'s field; calico-ipam uses pools (Calico ignores it too)' },
  { field: 'ipam.routes', status: 'honoured', note: '`[{dst}]`: routes in the container instead of the default ones (gateway always the host)' },
];
