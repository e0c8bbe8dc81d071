// SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only
// ICMP <-> ICMPv6 (RFC 7915 4.2-4.3 and 5.2-5.3), included by xlat.c.
// Errors carry the offending packet's header: it is translated with the same
// address rules, so the sender's stack matches the error to its socket (this
// is what makes path-MTU discovery and traceroute work).
//
// Checksums are updated incrementally: start from the old checksum, take out
// what was removed (old ICMP header, old inner header, old pseudo-header),
// add what was put in. Every block is a multiple of 4 bytes at an even
// offset of the message, so word positions do not matter.

/* Sum (not complemented) of the message words other than the checksum field. */
static __always_inline __s64 sum_without(__u16 csum)
{
	return (__u16)~csum;
}

static __always_inline __u16 fold64(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	return fold((__s64)(__u32)((s & 0xffffffff) + (s >> 32)));
}

static __always_inline void pseudo_of(struct pseudo6 *p, const struct v6hdr *h, __u32 len, __u8 nh)
{
	__builtin_memcpy(p->saddr, h->saddr, 16);
	__builtin_memcpy(p->daddr, h->daddr, 16);
	p->len = bpf_htonl(len);
	p->zero[0] = p->zero[1] = p->zero[2] = 0;
	p->nh = nh;
}

/*
 * The quoted packet's transport header (first 8 bytes, always quoted; for TCP
 * also bytes 16-19 when present): its checksum follows the inner address
 * change, an inner echo changes type. Returns the outer checksum delta.
 */
static __always_inline __s64 inner_l4(struct __sk_buff *skb, __u32 off, __u8 proto, __s64 addr_diff,
				       const struct pseudo6 *ps, int to_v6, __s64 s)
{
	__u8 l4[8], n4[8];
	if (off + 8 > skb->len || bpf_skb_load_bytes(skb, off, l4, 8) < 0)
		return s;
	__builtin_memcpy(n4, l4, 8);
	if (proto == P_UDP) {
		__u16 c = *(__u16 *)(l4 + 6);
		if (c) {
			__u16 nc = fold64((__u64)(__u16)~c + (__u32)addr_diff);
			*(__u16 *)(n4 + 6) = nc ? nc : 0xffff;
		}
	} else if (proto == (to_v6 ? P_ICMP : P_ICMP6)) {
		struct icmphdr8 *ih = (struct icmphdr8 *)n4;
		__u16 c = ih->csum;
		ih->csum = 0;
		if (!(to_v6 ? icmp_4to6(ih, 1, 0) : icmp_6to4(ih, 1)))
			return s;
		struct icmphdr8 oh = *(struct icmphdr8 *)l4;
		oh.csum = 0;
		__s64 d = bpf_csum_diff((__be32 *)&oh, 8, (__be32 *)ih, 8, sum_without(c));
		d = to_v6 ? bpf_csum_diff(0, 0, (__be32 *)ps, 40, d) : bpf_csum_diff((__be32 *)ps, 40, 0, 0, d);
		ih->csum = fold(d);
	} else if (proto == P_TCP) {
		__u8 t4[4];
		if (off + 20 <= skb->len && bpf_skb_load_bytes(skb, off + 16, t4, 4) == 0) {
			__u8 nt[4];
			__builtin_memcpy(nt, t4, 4);
			*(__u16 *)nt = fold64((__u64)(__u16)~*(__u16 *)t4 + (__u32)addr_diff);
			s = bpf_csum_diff((__be32 *)t4, 4, (__be32 *)nt, 4, s);
			bpf_skb_store_bytes(skb, off + 16, nt, 4, 0);
		}
		return s;
	}
	s = bpf_csum_diff((__be32 *)l4, 8, (__be32 *)n4, 8, s);
	bpf_skb_store_bytes(skb, off, n4, 8, 0);
	return s;
}

static __always_inline int icmp_from_wl(struct __sk_buff *skb, const struct xlat_iface *ifc, const struct v4hdr *h4,
					__u32 ihl, __u16 plen)
{
	struct icmphdr8 ic, oic;
	if (plen < 8 || bpf_skb_load_bytes(skb, ETH_HLEN + ihl, &ic, 8) < 0)
		return count(ST_DROP_MALFORMED, TC_ACT_SHOT);
	oic = ic;
	oic.csum = 0;
	__u16 oldc = ic.csum;
	int err = ic.type == 3 || ic.type == 11 || ic.type == 12;
	struct v4hdr in4 = {};
	__u16 inner_len = 0;
	if (err) {
		if (plen < 28 || bpf_skb_load_bytes(skb, ETH_HLEN + ihl + 8, &in4, 20) < 0)
			return count(ST_DROP_MALFORMED, TC_ACT_SHOT);
		if (in4.vihl != 0x45 || (bpf_ntohs(in4.frag_off) & 0x1fff))
			return count(ST_DROP_UNSUPPORTED, TC_ACT_SHOT);
		inner_len = bpf_ntohs(in4.tot_len);
	}
	if (!icmp_4to6(&ic, 0, inner_len))
		return count(ST_DROP_UNSUPPORTED, TC_ACT_SHOT);
	ic.csum = 0;
	struct v6hdr h6, in6;
	__u16 plen6 = plen + (err ? 20 : 0);
	addr_4to6(ifc, h4->saddr, h6.saddr);
	addr_4to6(ifc, h4->daddr, h6.daddr);
	v6_from_v4(&h6, h4, plen6, P_ICMP6);
	__s64 s = bpf_csum_diff((__be32 *)&oic, 8, (__be32 *)&ic, 8, sum_without(oldc));
	struct pseudo6 ps;
	if (err) {
		addr_4to6(ifc, in4.saddr, in6.saddr);
		addr_4to6(ifc, in4.daddr, in6.daddr);
		v6_from_v4(&in6, &in4, inner_len > 20 ? inner_len - 20 : 0, in4.proto == P_ICMP ? P_ICMP6 : in4.proto);
		s = bpf_csum_diff((__be32 *)&in4, 20, (__be32 *)&in6, 40, s);
	}
	/* Room: the IPv6 header (+20) and, for an error, the inner IPv6 header (+20). */
	if (bpf_skb_change_proto(skb, bpf_htons(ETH_P_IPV6), 0) < 0)
		return count(ST_DROP_HELPER, TC_ACT_SHOT);
	if (ihl > 20 && bpf_skb_adjust_room(skb, -(__s32)(ihl - 20), BPF_ADJ_ROOM_NET, 0) < 0)
		return count(ST_DROP_HELPER, TC_ACT_SHOT);
	if (err) {
		if (bpf_skb_adjust_room(skb, 20, BPF_ADJ_ROOM_NET, 0) < 0)
			return count(ST_DROP_HELPER, TC_ACT_SHOT);
		/* eth | IPv6 | 20 new | ICMP (8) | inner IPv4 (20) | ... : rewrite the 48 bytes after IPv6. */
		if (bpf_skb_store_bytes(skb, ETH_HLEN + 48, &in6, 40, 0) < 0)
			return count(ST_DROP_HELPER, TC_ACT_SHOT);
		__s64 ad = bpf_csum_diff(&in4.saddr, 8, (__be32 *)in6.saddr, 32, 0);
		pseudo_of(&ps, &in6, inner_len > 20 ? inner_len - 20 : 0, P_ICMP6);
		s = inner_l4(skb, ETH_HLEN + 88, in4.proto, ad, &ps, 1, s);
	}
	pseudo_of(&ps, &h6, plen6, P_ICMP6);
	s = bpf_csum_diff(0, 0, (__be32 *)&ps, 40, s);
	ic.csum = fold(s);
	__be16 ethp = bpf_htons(ETH_P_IPV6);
	if (bpf_skb_store_bytes(skb, ETH_HLEN + 40, &ic, 8, 0) < 0 || bpf_skb_store_bytes(skb, 12, &ethp, 2, 0) < 0 ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, &h6, 40, 0) < 0)
		return count(ST_DROP_HELPER, TC_ACT_SHOT);
	return count(ST_V4TO6, TC_ACT_OK);
}

static __always_inline int icmp_to_wl(struct __sk_buff *skb, const struct xlat_iface *ifc, const struct v6hdr *h6, __u32 plen)
{
	struct icmphdr8 ic, oic;
	if (plen < 8 || bpf_skb_load_bytes(skb, ETH_HLEN + 40, &ic, 8) < 0)
		return count(ST_DROP_MALFORMED, TC_ACT_SHOT);
	oic = ic;
	oic.csum = 0;
	__u16 oldc = ic.csum;
	int err = ic.type < 128;
	struct v6hdr in6;
	struct v4hdr h4 = {}, in4 = {};
	if (err) {
		if (plen < 48 || bpf_skb_load_bytes(skb, ETH_HLEN + 48, &in6, 40) < 0)
			return count(ST_DROP_MALFORMED, TC_ACT_SHOT);
		if (in6.nh != P_TCP && in6.nh != P_UDP && in6.nh != P_ICMP6)
			return count(ST_DROP_UNSUPPORTED, TC_ACT_SHOT);
	}
	if (!addr_6to4(ifc, h6->saddr, &h4.saddr)) {
		if (!err)
			return count(ST_DROP_FOREIGN, TC_ACT_SHOT);
		h4.saddr = bpf_htonl(IP4_DUMMY); /* a router on the path: RFC 7600 */
	}
	__builtin_memcpy(&h4.daddr, h6->daddr + 12, 4);
	if (!icmp_6to4(&ic, 0))
		return count(ST_DROP_UNSUPPORTED, TC_ACT_SHOT);
	ic.csum = 0;
	__u16 tot = plen + 20 - (err ? 20 : 0);
	v4_from_v6(&h4, h6, tot, P_ICMP);
	if (tot > 1260)
		h4.frag_off = bpf_htons(0x4000);
	else
		h4.id = (__u16)bpf_get_prandom_u32();
	h4.check = fold(bpf_csum_diff(0, 0, (__be32 *)&h4, 20, 0));
	__s64 s = bpf_csum_diff((__be32 *)&oic, 8, (__be32 *)&ic, 8, sum_without(oldc));
	struct pseudo6 ps;
	pseudo_of(&ps, h6, plen, P_ICMP6);
	s = bpf_csum_diff((__be32 *)&ps, 40, 0, 0, s);
	__u32 inner_plen = 0;
	if (err) {
		if (!addr_6to4(ifc, in6.saddr, &in4.saddr) || !addr_6to4(ifc, in6.daddr, &in4.daddr))
			return count(ST_DROP_FOREIGN, TC_ACT_SHOT);
		inner_plen = bpf_ntohs(in6.plen);
		v4_from_v6(&in4, &in6, inner_plen + 20, in6.nh == P_ICMP6 ? P_ICMP : in6.nh);
		in4.check = fold(bpf_csum_diff(0, 0, (__be32 *)&in4, 20, 0));
		s = bpf_csum_diff((__be32 *)&in6, 40, (__be32 *)&in4, 20, s);
		/* eth | IPv6 | ICMPv6 (8) | inner IPv6 (40) | ... -> drop 20 of those 48 bytes. */
		if (bpf_skb_adjust_room(skb, -20, BPF_ADJ_ROOM_NET, 0) < 0)
			return count(ST_DROP_HELPER, TC_ACT_SHOT);
	}
	if (bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 0) < 0)
		return count(ST_DROP_HELPER, TC_ACT_SHOT);
	if (err) {
		if (bpf_skb_store_bytes(skb, ETH_HLEN + 28, &in4, 20, 0) < 0)
			return count(ST_DROP_HELPER, TC_ACT_SHOT);
		__s64 ad = bpf_csum_diff((__be32 *)in6.saddr, 32, &in4.saddr, 8, 0);
		pseudo_of(&ps, &in6, inner_plen, P_ICMP6);
		s = inner_l4(skb, ETH_HLEN + 48, in6.nh, ad, &ps, 0, s);
	}
	ic.csum = fold(s);
	__be16 ethp = bpf_htons(ETH_P_IP);
	if (bpf_skb_store_bytes(skb, ETH_HLEN + 20, &ic, 8, 0) < 0 || bpf_skb_store_bytes(skb, 12, &ethp, 2, 0) < 0 ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, &h4, 20, 0) < 0)
		return count(ST_DROP_HELPER, TC_ACT_SHOT);
	return count(ST_V6TO4, TC_ACT_OK);
}
