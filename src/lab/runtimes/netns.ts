// How container runtimes are started inside a lab host's network namespace.
//
// Not `ip netns exec`: it also remounts /sys for the namespace, which hides
// the cgroup mounts under /sys/fs/cgroup, and runc then fails ("no cgroup
// mount found"). nsenter switches only the network namespace.
export const inHostNetns = (ns: string, argv: string[]): string[] => ['nsenter', `--net=/var/run/netns/${ns}`, ...argv];
