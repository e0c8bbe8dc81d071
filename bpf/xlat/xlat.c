// SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only
// Stateless IPv4 <-> IPv6 translation (RFC 7915, addresses per RFC 6052 /96
// and RFC 7757 explicit mappings) for calico-ts address spaces.
// docs/design/xlat.md is the contract; this file only implements it.
//
// Two programs, both on the host side of a space endpoint's interface:
//   xlat_from_wl  tc ingress: IPv4 from the workload -> IPv6
//   xlat_to_wl    tc egress:  IPv6 to the workload   -> IPv4
// No per-flow state anywhere: every output depends on the packet and the
// maps only, so the program can be replaced mid-flow.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// Own constants: linux/icmp.h and friends pull glibc headers.
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17
#define P_FRAG 44
#define P_ICMP6 58
#define IP4_DUMMY 0xc0000008 /* 192.0.0.8, RFC 7600: source of errors with no IPv4 address */

struct v4hdr {
	__u8 vihl, tos;
	__be16 tot_len, id, frag_off;
	__u8 ttl, proto;
	__u16 check;
	__be32 saddr, daddr;
};
struct v6hdr {
	__be32 vtcfl;
	__be16 plen;
	__u8 nh, hlim;
	__u8 saddr[16], daddr[16];
};
struct fraghdr {
	__u8 nh, res;
	__be16 off; /* offset << 3 | M */
	__be32 id;
};
struct icmphdr8 {
	__u8 type, code;
	__u16 csum;
	__be32 rest;
};
struct pseudo6 {
	__u8 saddr[16], daddr[16];
	__be32 len;
	__u8 zero[3], nh;
};

/* Map values: written by calico-node (src/xlat/maps.ts owns the byte layout). */
struct xlat_iface {
	__u8 prefix[12]; /* the space's /96 */
	__u32 space_id;
};
struct eam4_key {
	__u32 space_id;
	__be32 addr4;
};
struct eam6_key {
	__u32 space_id;
	__u8 addr6[16];
};
struct eam6_val {
	__be32 addr4;
};
struct eam4_val {
	__u8 addr6[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct xlat_iface);
} xlat_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct eam4_key);
	__type(value, struct eam4_val);
} xlat_eam4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct eam6_key);
	__type(value, struct eam6_val);
} xlat_eam6 SEC(".maps");

enum stat {
	ST_V4TO6,
	ST_V6TO4,
	ST_PASSED,
	ST_DROP_UNSUPPORTED, /* extension header, ICMP type, source route, fragmented ICMP */
	ST_DROP_FOREIGN,     /* IPv6 from outside the space with no mapping */
	ST_DROP_UDP_ZERO,    /* UDP/IPv4 without checksum */
	ST_DROP_MALFORMED,
	ST_DROP_HELPER,      /* a kernel helper refused (no room, ...) */
	ST_MAX,
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} xlat_stats SEC(".maps");

static __always_inline int count(__u32 which, int verdict)
{
	__u64 *c = bpf_map_lookup_elem(&xlat_stats, &which);
	if (c)
		*c += 1;
	return verdict;
}

static __always_inline __u16 fold(__s64 s)
{
	__u32 x = (__u32)s;
	x = (x & 0xffff) + (x >> 16);
	x = (x & 0xffff) + (x >> 16);
	return (__u16)~x;
}

static __always_inline int in_prefix(const __u8 *a6, const struct xlat_iface *ifc)
{
	/* clang 14 leaves memcmp unresolved: compare 32-bit words. */
	const __u32 *a = (const __u32 *)a6, *p = (const __u32 *)ifc->prefix;
	return a[0] == p[0] && a[1] == p[1] && a[2] == p[2];
}

/* IPv4 (in the space's view) -> IPv6: a mapped service, else prefix | a4. */
static __always_inline void addr_4to6(const struct xlat_iface *ifc, __be32 a4, __u8 *out)
{
	struct eam4_key k = { .space_id = ifc->space_id, .addr4 = a4 };
	struct eam4_val *m = bpf_map_lookup_elem(&xlat_eam4, &k);
	if (m) {
		__builtin_memcpy(out, m->addr6, 16);
		return;
	}
	__builtin_memcpy(out, ifc->prefix, 12);
	__builtin_memcpy(out + 12, &a4, 4);
}

/* IPv6 -> IPv4: inside the space's prefix, else a mapped service. 0 = not translatable. */
static __always_inline int addr_6to4(const struct xlat_iface *ifc, const __u8 *a6, __be32 *out)
{
	if (in_prefix(a6, ifc)) {
		__builtin_memcpy(out, a6 + 12, 4);
		return 1;
	}
	struct eam6_key k = { .space_id = ifc->space_id };
	__builtin_memcpy(k.addr6, a6, 16);
	struct eam6_val *m = bpf_map_lookup_elem(&xlat_eam6, &k);
	if (!m)
		return 0;
	*out = m->addr4;
	return 1;
}

static __always_inline void v6_from_v4(struct v6hdr *h6, const struct v4hdr *h4, __u16 plen, __u8 nh)
{
	h6->vtcfl = bpf_htonl(0x60000000 | ((__u32)h4->tos << 20)); /* TOS -> traffic class, flow label 0 */
	h6->plen = bpf_htons(plen);
	h6->nh = nh;
	h6->hlim = h4->ttl; /* the host's IPv6 forwarding decrements it */
}

static __always_inline void v4_from_v6(struct v4hdr *h4, const struct v6hdr *h6, __u16 tot_len, __u8 proto)
{
	h4->vihl = 0x45;
	h4->tos = (__u8)(bpf_ntohl(h6->vtcfl) >> 20);
	h4->tot_len = bpf_htons(tot_len);
	h4->ttl = h6->hlim;
	h4->proto = proto;
	h4->check = 0;
}

/* ---------- ICMP type/code tables (RFC 7915 4.2 / 5.2) ---------- */

static const __s8 ptr4to6[20] = { 0, 1, 4, 4, -1, -1, -1, -1, 7, 6, -1, -1, 8, 8, 8, 8, 24, 24, 24, 24 };

/* ICMPv4 -> ICMPv6 header (inner: only echo is legal inside an error). 0 = drop. */
static __always_inline int icmp_4to6(struct icmphdr8 *h, int inner, __u16 inner_len)
{
	__u8 t = h->type, c = h->code;
	switch (t) {
	case 8: h->type = 128; return 1;
	case 0: h->type = 129; return 1;
	}
	if (inner)
		return 0;
	switch (t) {
	case 3: {
		__u32 mtu = bpf_ntohl(h->rest) & 0xffff; /* read before the field is rewritten */
		h->type = 1;
		h->rest = 0;
		if (c == 0 || c == 1 || c == 5 || c == 6 || c == 7 || c == 8 || c == 11 || c == 12) h->code = 0;
		else if (c == 9 || c == 10 || c == 13 || c == 15) h->code = 1;
		else if (c == 3) h->code = 4;
		else if (c == 2) { h->type = 4; h->code = 1; h->rest = bpf_htonl(6); }
		else if (c == 4) {
			if (mtu == 0) { /* RFC 1191 plateaus below the quoted packet's length */
				mtu = inner_len > 1492 ? 1492 : inner_len > 1006 ? 1006 : inner_len > 508 ? 508 : 296;
			}
			mtu += 20;
			if (mtu < 1280) mtu = 1280;
			h->type = 2; h->code = 0; h->rest = bpf_htonl(mtu);
		} else return 0;
		return 1;
	}
	case 11:
		h->type = 3; h->rest = 0;
		return 1;
	case 12: {
		if (c != 0 && c != 2) return 0;
		__u32 p = bpf_ntohl(h->rest) >> 24;
		if (p >= 20 || ptr4to6[p] < 0) return 0;
		h->type = 4; h->code = 0; h->rest = bpf_htonl((__u32)ptr4to6[p]);
		return 1;
	}
	}
	return 0;
}

/* ICMPv6 -> ICMPv4 header. 0 = drop. */
static __always_inline int icmp_6to4(struct icmphdr8 *h, int inner)
{
	__u8 t = h->type, c = h->code;
	switch (t) {
	case 128: h->type = 8; return 1;
	case 129: h->type = 0; return 1;
	}
	if (inner)
		return 0;
	switch (t) {
	case 1:
		h->type = 3; h->rest = 0;
		if (c == 0 || c == 2 || c == 3) h->code = 1;
		else if (c == 1) h->code = 10;
		else if (c == 4) h->code = 3;
		else return 0;
		return 1;
	case 2: {
		__u32 mtu = bpf_ntohl(h->rest);
		mtu = mtu > 65535 + 20 ? 65535 : mtu - 20;
		if (mtu < 68) mtu = 68;
		h->type = 3; h->code = 4; h->rest = bpf_htonl(mtu);
		return 1;
	}
	case 3:
		h->type = 11; h->rest = 0;
		return 1;
	case 4: {
		if (c == 1) { h->type = 3; h->code = 2; h->rest = 0; return 1; }
		if (c != 0) return 0;
		__u32 p = bpf_ntohl(h->rest), q;
		if (p == 0 || p == 1) q = p;
		else if (p == 4 || p == 5) q = 2;
		else if (p == 6) q = 9;
		else if (p == 7) q = 8;
		else if (p >= 8 && p < 24) q = 12;
		else if (p >= 24 && p < 40) q = 16;
		else return 0;
		h->type = 12; h->code = 0; h->rest = bpf_htonl(q << 24);
		return 1;
	}
	}
	return 0;
}

#include "xlat-icmp.h"

/* ---------- IPv4 -> IPv6 (from the workload) ---------- */

/*
 * Options are rare: walk them with bpf_loop so the verifier checks one step,
 * not every combination of option lengths.
 */
struct opt_walk {
	struct __sk_buff *skb;
	__u32 optlen, i;
	int routed;
};

static long opt_step(__u32 n, void *arg)
{
	struct opt_walk *w = arg;
	__u8 o[3] = {};
	__u32 i = w->i;
	if (i >= w->optlen || i >= 40 || bpf_skb_load_bytes(w->skb, ETH_HLEN + 20 + i, o, 1) < 0 || o[0] == 0)
		return 1;
	if (o[0] == 1) { /* NOP */
		w->i = i + 1;
		return 0;
	}
	if (i + 3 > w->optlen || bpf_skb_load_bytes(w->skb, ETH_HLEN + 20 + i, o, 3) < 0 || o[1] < 2) {
		w->routed = 1; /* malformed: treat as not translatable */
		return 1;
	}
	/* Unexpired loose/strict source route (pointer within the option): RFC 7915 4.1 drops it. */
	if ((o[0] == 0x83 || o[0] == 0x89) && o[2] <= o[1]) {
		w->routed = 1;
		return 1;
	}
	w->i = i + o[1];
	return 0;
}

static __always_inline int source_routed(struct __sk_buff *skb, __u32 optlen)
{
	struct opt_walk w = { .skb = skb, .optlen = optlen };
	bpf_loop(40, opt_step, &w, 0);
	return w.routed;
}

SEC("tc")
int xlat_from_wl(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct xlat_iface *ifc = bpf_map_lookup_elem(&xlat_ifaces, &ifindex);
	if (!ifc || skb->protocol != bpf_htons(ETH_P_IP))
		return count(ST_PASSED, TC_ACT_OK);
	struct v4hdr h4;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &h4, sizeof(h4)) < 0 || (h4.vihl >> 4) != 4)
		return count(ST_DROP_MALFORMED, TC_ACT_SHOT);
	__u32 d = bpf_ntohl(h4.daddr);
	/* Broadcast and multicast (DHCP, the host) stay IPv4. */
	if (d == 0xffffffff || (d >> 28) == 0xe || h4.saddr == 0)
		return count(ST_PASSED, TC_ACT_OK);
	__u32 ihl = (h4.vihl & 0xf) * 4, tot = bpf_ntohs(h4.tot_len);
	if (ihl < 20 || tot < ihl || tot > skb->len - ETH_HLEN)
		return count(ST_DROP_MALFORMED, TC_ACT_SHOT);
	if (ihl > 20 && source_routed(skb, ihl - 20))
		return count(ST_DROP_UNSUPPORTED, TC_ACT_SHOT);
	__u16 fo = bpf_ntohs(h4.frag_off);
	int frag = (fo & 0x3fff) != 0, first = (fo & 0x1fff) == 0;
	__u16 plen = tot - ihl;
	__u8 proto = h4.proto;
	if (proto == P_ICMP) {
		if (frag) /* the ICMPv6 checksum covers a pseudo-header with the whole length */
			return count(ST_DROP_UNSUPPORTED, TC_ACT_SHOT);
		return icmp_from_wl(skb, ifc, &h4, ihl, plen);
	}
	struct v6hdr h6;
	/* The source is the workload itself, always in the prefix (no mapping lookup on the fast path). */
	__builtin_memcpy(h6.saddr, ifc->prefix, 12);
	__builtin_memcpy(h6.saddr + 12, &h4.saddr, 4);
	addr_4to6(ifc, h4.daddr, h6.daddr);
	v6_from_v4(&h6, &h4, plen + (frag ? 8 : 0), frag ? P_FRAG : proto);

	__u32 csum_off = 0, flags = BPF_F_PSEUDO_HDR;
	if (first && proto == P_TCP) csum_off = 16;
	if (first && proto == P_UDP) {
		__u16 c;
		if (bpf_skb_load_bytes(skb, ETH_HLEN + ihl + 6, &c, 2) < 0)
			return count(ST_DROP_MALFORMED, TC_ACT_SHOT);
		if (c == 0)
			return count(ST_DROP_UDP_ZERO, TC_ACT_SHOT);
		csum_off = 6;
		flags |= BPF_F_MARK_MANGLED_0;
	}
	/* The pseudo-header changes only in its addresses (lengths and protocol sum alike). */
	__s64 diff = bpf_csum_diff(&h4.saddr, 8, (__be32 *)h6.saddr, 32, 0);

	if (bpf_skb_change_proto(skb, bpf_htons(ETH_P_IPV6), 0) < 0)
		return count(ST_DROP_HELPER, TC_ACT_SHOT);
	/* Layout now: eth | 20 new | old IPv4 header (20) | options | payload. */
	if (ihl > 20 && bpf_skb_adjust_room(skb, -(__s32)(ihl - 20), BPF_ADJ_ROOM_NET, BPF_F_ADJ_ROOM_NO_CSUM_RESET) < 0)
		return count(ST_DROP_HELPER, TC_ACT_SHOT);
	if (frag) {
		if (bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_NET, 0) < 0)
			return count(ST_DROP_HELPER, TC_ACT_SHOT);
		struct fraghdr fh = {
			.nh = proto,
			.off = bpf_htons(((fo & 0x1fff) << 3) | ((fo & 0x2000) ? 1 : 0)),
			.id = bpf_htonl(bpf_ntohs(h4.id)),
		};
		if (bpf_skb_store_bytes(skb, ETH_HLEN + 40, &fh, 8, 0) < 0)
			return count(ST_DROP_HELPER, TC_ACT_SHOT);
	}
	__be16 ethp = bpf_htons(ETH_P_IPV6);
	if (bpf_skb_store_bytes(skb, 12, &ethp, 2, 0) < 0 || bpf_skb_store_bytes(skb, ETH_HLEN, &h6, 40, 0) < 0)
		return count(ST_DROP_HELPER, TC_ACT_SHOT);
	if (csum_off && bpf_l4_csum_replace(skb, ETH_HLEN + 40 + (frag ? 8 : 0) + csum_off, 0, diff, flags) < 0)
		return count(ST_DROP_HELPER, TC_ACT_SHOT);
	return count(ST_V4TO6, TC_ACT_OK);
}

/* ---------- IPv6 -> IPv4 (to the workload) ---------- */

SEC("tc")
int xlat_to_wl(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct xlat_iface *ifc = bpf_map_lookup_elem(&xlat_ifaces, &ifindex);
	if (!ifc || skb->protocol != bpf_htons(ETH_P_IPV6))
		return count(ST_PASSED, TC_ACT_OK);
	struct v6hdr h6;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &h6, sizeof(h6)) < 0 || (bpf_ntohl(h6.vtcfl) >> 28) != 6)
		return count(ST_DROP_MALFORMED, TC_ACT_SHOT);
	if (!in_prefix(h6.daddr, ifc)) {
		/* NDP, link-local and multicast pass; nothing else is routed here. */
		if (h6.daddr[0] == 0xff || (h6.daddr[0] == 0xfe && (h6.daddr[1] & 0xc0) == 0x80))
			return count(ST_PASSED, TC_ACT_OK);
		return count(ST_DROP_FOREIGN, TC_ACT_SHOT);
	}
	__u32 plen = bpf_ntohs(h6.plen);
	if (plen + 40 > skb->len - ETH_HLEN)
		return count(ST_DROP_MALFORMED, TC_ACT_SHOT);
	__u8 nh = h6.nh;
	struct fraghdr fh = {};
	int frag = nh == P_FRAG, first = 1;
	if (frag) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + 40, &fh, 8) < 0 || plen < 8)
			return count(ST_DROP_MALFORMED, TC_ACT_SHOT);
		nh = fh.nh;
		first = (bpf_ntohs(fh.off) >> 3) == 0;
	}
	if (nh == P_ICMP6) {
		if (frag)
			return count(ST_DROP_UNSUPPORTED, TC_ACT_SHOT);
		return icmp_to_wl(skb, ifc, &h6, plen);
	}
	if (nh != P_TCP && nh != P_UDP && nh != 132 /* SCTP */ && nh != 47 /* GRE */)
		return count(ST_DROP_UNSUPPORTED, TC_ACT_SHOT); /* other extension headers */
	struct v4hdr h4 = {};
	if (!addr_6to4(ifc, h6.saddr, &h4.saddr))
		return count(ST_DROP_FOREIGN, TC_ACT_SHOT);
	__builtin_memcpy(&h4.daddr, h6.daddr + 12, 4);
	__u16 tot = plen + 20 - (frag ? 8 : 0);
	v4_from_v6(&h4, &h6, tot, nh);
	if (frag) {
		__u16 off = bpf_ntohs(fh.off);
		h4.id = bpf_htons((__u16)bpf_ntohl(fh.id));
		h4.frag_off = bpf_htons(((off & 1) ? 0x2000 : 0) | (off >> 3));
	} else if (tot > 1260) {
		h4.frag_off = bpf_htons(0x4000); /* DF */
	} else {
		h4.id = (__u16)bpf_get_prandom_u32();
	}
	h4.check = fold(bpf_csum_diff(0, 0, (__be32 *)&h4, 20, 0));

	__u32 csum_off = first && nh == P_TCP ? 16 : first && nh == P_UDP ? 6 : 0;
	__u32 flags = BPF_F_PSEUDO_HDR | (nh == P_UDP ? BPF_F_MARK_MANGLED_0 : 0);
	__s64 diff = bpf_csum_diff((__be32 *)h6.saddr, 32, &h4.saddr, 8, 0);

	if (frag && bpf_skb_adjust_room(skb, -8, BPF_ADJ_ROOM_NET, 0) < 0)
		return count(ST_DROP_HELPER, TC_ACT_SHOT);
	if (bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 0) < 0)
		return count(ST_DROP_HELPER, TC_ACT_SHOT);
	__be16 ethp = bpf_htons(ETH_P_IP);
	if (bpf_skb_store_bytes(skb, 12, &ethp, 2, 0) < 0 || bpf_skb_store_bytes(skb, ETH_HLEN, &h4, 20, 0) < 0)
		return count(ST_DROP_HELPER, TC_ACT_SHOT);
	if (csum_off) {
		/* A UDP checksum of 0 in IPv6 is invalid; leave such a datagram as it is. */
		if (bpf_l4_csum_replace(skb, ETH_HLEN + 20 + csum_off, 0, diff, flags) < 0)
			return count(ST_DROP_HELPER, TC_ACT_SHOT);
	}
	return count(ST_V6TO4, TC_ACT_OK);
}

char _license[] SEC("license") = "GPL";
