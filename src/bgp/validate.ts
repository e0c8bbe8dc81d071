// Validation of the BGP-facing resource fields (BGPPeer, BGPConfiguration).
// Pure; returns field issues with the path and the fix, so the datastore's
// validation layer and calicoctl can reject a broken peer before it is stored,
// and the plan can skip one that got in anyway.

import { ValidationError, type FieldIssue } from '../base/errors.js';
import type { BgpConfigurationSpec, BgpPeerResource, CommunityDefinition } from './model.js';
import { tryParseIP, tryParseStrictCIDROrIP } from '../base/ip.js';

export const MAX_AS_NUMBER = 4294967295;

/** Go-style duration ("90s", "2m", "1h30m", "500ms") to whole seconds (rounded up), or undefined. */
export function parseDurationSeconds(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    total += Number(m[1]) * unit;
    matched = re.lastIndex;
  }
  if (text === '' || matched !== text.length) return undefined;
  return Math.ceil(total);
}

/** `ip`, `ip:port`, `[v6]:port`, or a bare IPv6 address. */
export function parsePeerIP(text: string): { address: string; port?: number } | undefined {
  let address = text;
  let port: string | undefined;
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (bracket) {
    address = bracket[1]!;
    port = bracket[2];
  } else if (/^[\d.]+:\d+$/.test(text)) {
    [address, port] = text.split(':') as [string, string];
  }
  const parsed = tryParseIP(address);
  if (!parsed) return undefined;
  if (port === undefined) return { address };
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) return undefined;
  return { address, port: n };
}

function checkAs(issues: FieldIssue[], path: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_AS_NUMBER) {
    issues.push({ path, message: `AS number ${String(value)} is out of range; use 1-${MAX_AS_NUMBER} (private: 64512-65534)` });
  }
}

function checkDuration(issues: FieldIssue[], path: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const s = parseDurationSeconds(value);
  if (s === undefined) issues.push({ path, message: `'${value}' is not a duration; write e.g. "30s", "2m" or "1h"` });
  return s;
}

export function bgpPeerIssues(peer: BgpPeerResource): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const s = peer.spec;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(peer.name)) {
    issues.push({ path: 'metadata.name', message: `'${peer.name}' is not a valid name (lower-case letters, digits, '-' and '.')` });
  }
  if (s.node !== undefined && s.nodeSelector !== undefined) {
    issues.push({ path: 'spec.nodeSelector', message: 'set either node or nodeSelector, not both' });
  }
  if (s.peerIP !== undefined && s.peerSelector !== undefined) {
    issues.push({ path: 'spec.peerSelector', message: 'set either peerIP or peerSelector, not both' });
  }
  if (s.peerIP === undefined && s.peerSelector === undefined) {
    issues.push({ path: 'spec.peerIP', message: 'a peer needs peerIP (an external router) or peerSelector (Calico nodes)' });
  }
  if (s.peerIP !== undefined) {
    if (!parsePeerIP(s.peerIP)) {
      issues.push({ path: 'spec.peerIP', message: `'${s.peerIP}' is not an IP address (optionally with :port, [v6]:port)` });
    }
    if (s.asNumber === undefined) issues.push({ path: 'spec.asNumber', message: 'a peer given by peerIP needs its asNumber' });
  }
  if (s.reachableBy !== undefined) {
    const via = tryParseIP(s.reachableBy);
    const peer = s.peerIP === undefined ? undefined : parsePeerIP(s.peerIP);
    if (!via) issues.push({ path: 'spec.reachableBy', message: `'${s.reachableBy}' is not an IP address (the gateway the peer is reached through)` });
    else if (s.peerIP === undefined) issues.push({ path: 'spec.reachableBy', message: 'needs peerIP: it is the gateway towards that address' });
    else if (peer && tryParseIP(peer.address)?.family !== via.family) issues.push({ path: 'spec.reachableBy', message: 'must be the same IP family as peerIP' });
  }
  checkAs(issues, 'spec.asNumber', s.asNumber);
  // 0 is Calico's "off" (the API allows 0-255).
  if (s.ttlSecurity !== undefined && (!Number.isInteger(s.ttlSecurity) || s.ttlSecurity < 0 || s.ttlSecurity > 255)) {
    issues.push({ path: 'spec.ttlSecurity', message: `${s.ttlSecurity} hops is out of range; use 1-255 (0: off)` });
  }
  const keepalive = checkDuration(issues, 'spec.keepaliveTime', s.keepaliveTime);
  const hold = checkDuration(issues, 'spec.holdTime', s.holdTime);
  checkDuration(issues, 'spec.maxRestartTime', s.maxRestartTime);
  if (hold !== undefined && hold !== 0 && (hold < 3 || hold > 65535)) {
    issues.push({ path: 'spec.holdTime', message: 'hold time must be 0 or 3s-65535s' });
  }
  if (keepalive !== undefined && (keepalive < 1 || keepalive > 65535)) {
    issues.push({ path: 'spec.keepaliveTime', message: 'keepalive time must be 1s-65535s' });
  }
  if (keepalive !== undefined && hold !== undefined && hold !== 0 && keepalive >= hold) {
    issues.push({ path: 'spec.keepaliveTime', message: 'keepalive time must be shorter than hold time' });
  }
  // The API's range (Calico sets no maximum; BIRD takes a 32-bit count).
  if (s.numAllowedLocalASNumbers !== undefined && (!Number.isInteger(s.numAllowedLocalASNumbers) || s.numAllowedLocalASNumbers < 0 || s.numAllowedLocalASNumbers > 2147483647)) {
    issues.push({ path: 'spec.numAllowedLocalASNumbers', message: `${s.numAllowedLocalASNumbers} is out of range; use 0-2147483647` });
  }
  if (s.sourceAddress !== undefined && s.sourceAddress !== 'UseNodeIP' && s.sourceAddress !== 'None') {
    issues.push({ path: 'spec.sourceAddress', message: `'${String(s.sourceAddress)}' is not UseNodeIP or None` });
  }
  if (s.nextHopMode !== undefined && !['Auto', 'Self', 'Keep'].includes(s.nextHopMode)) {
    issues.push({ path: 'spec.nextHopMode', message: `'${String(s.nextHopMode)}' is not Auto, Self or Keep` });
  }
  if (s.keepOriginalNextHop && s.nextHopMode !== undefined && s.nextHopMode !== 'Keep') {
    issues.push({ path: 'spec.keepOriginalNextHop', message: 'conflicts with nextHopMode; use nextHopMode: Keep' });
  }
  if (s.password !== undefined && (s.password.length === 0 || s.password.length > 80 || /[\n\r"\\]/.test(s.password))) {
    issues.push({ path: 'spec.password', message: 'password must be 1-80 characters without quotes, backslashes or newlines' });
  }
  return issues;
}

/** `aa:nn` (standard, 16-bit parts) or `aa:nn:mm` (large, 32-bit parts), or undefined. */
export function parseCommunity(value: string): { standard?: [number, number]; large?: [number, number, number] } | undefined {
  const parts = value.split(':');
  if (!parts.every((p) => /^\d{1,10}$/.test(p))) return undefined;
  const n = parts.map(Number);
  if (n.length === 2 && n.every((x) => x <= 65535)) return { standard: [n[0]!, n[1]!] };
  if (n.length === 3 && n.every((x) => x <= MAX_AS_NUMBER)) return { large: [n[0]!, n[1]!, n[2]!] };
  return undefined;
}

/** Resolves a prefixAdvertisements entry: a community name, else a literal value. */
export function resolveCommunity(ref: string, defs: CommunityDefinition[] = []): string {
  return defs.find((d) => d.name === ref)?.value ?? ref;
}

export function bgpConfigurationIssues(spec: BgpConfigurationSpec): FieldIssue[] {
  const issues: FieldIssue[] = [];
  checkAs(issues, 'spec.asNumber', spec.asNumber);
  if (spec.listenPort !== undefined && (!Number.isInteger(spec.listenPort) || spec.listenPort < 1 || spec.listenPort > 65535)) {
    issues.push({ path: 'spec.listenPort', message: `${spec.listenPort} is not a port (1-65535)` });
  }
  checkDuration(issues, 'spec.nodeMeshMaxRestartTime', spec.nodeMeshMaxRestartTime);
  (spec.communities ?? []).forEach((c, i) => {
    if (!parseCommunity(c.value)) {
      issues.push({ path: `spec.communities[${i}].value`, message: `'${c.value}' is not aa:nn (16-bit parts) or aa:nn:mm (32-bit parts)` });
    }
  });
  (spec.prefixAdvertisements ?? []).forEach((a, i) => {
    if (!tryParseStrictCIDROrIP(a.cidr)) issues.push({ path: `spec.prefixAdvertisements[${i}].cidr`, message: `'${a.cidr}' is not a CIDR` });
    a.communities.forEach((ref, j) => {
      if (!parseCommunity(resolveCommunity(ref, spec.communities))) {
        issues.push({
          path: `spec.prefixAdvertisements[${i}].communities[${j}]`,
          message: `'${ref}' is neither a community defined in spec.communities nor an aa:nn / aa:nn:mm value`,
        });
      }
    });
  });
  return issues;
}

/** Throws a ValidationError naming the peer, for callers that must reject (calicoctl, the datastore). */
export function validateBgpPeer(peer: BgpPeerResource): void {
  const issues = bgpPeerIssues(peer);
  if (issues.length) throw new ValidationError(issues, `BGPPeer(${peer.name})`);
}
