// A real VM for the kernel tests: QEMU (TCG, no KVM) booting the machine's
// Debian kernel with a busybox initramfs built here at test time. The guest
// loads virtio_net (a module in Debian's kernels, with its dependencies from
// modules.dep), asks for an address with udhcpc (requesting option 121), writes
// what it got on the serial console, serves HTTP on :8080, then runs the
// commands the test sends over the console and reports each one's output and
// exit code between markers. QEMU runs inside a lab host's namespace, on a tap
// the test made there.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GuestKernel {
  vmlinuz: string;
  modulesDir: string;
}

/** The newest /boot/vmlinuz-* with its modules, or why there is none (the test skips with it). */
export function findGuestKernel(): GuestKernel | string {
  const kernels = existsSync('/boot') ? readdirSync('/boot').filter((f) => f.startsWith('vmlinuz-')).sort() : [];
  for (const k of kernels.reverse()) {
    const version = k.slice('vmlinuz-'.length);
    const modulesDir = `/lib/modules/${version}`;
    if (existsSync(join(modulesDir, 'modules.dep'))) return { vmlinuz: join('/boot', k), modulesDir };
  }
  return 'no /boot/vmlinuz-* with /lib/modules (install linux-image-cloud-amd64: scripts/install-deps.sh)';
}

/** Why the VM tests cannot run here, or false. */
export function vmSkipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const [cmd, pkg] of [['qemu-system-x86_64', 'qemu-system-x86'], ['dnsmasq', 'dnsmasq-base'], ['cpio', 'cpio'], ['bird', 'bird2'], ['etcd', 'etcd-server']]) {
    if (spawnSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`]).status !== 0) return `${cmd} not installed (Debian ${pkg})`;
  }
  // Debian's busybox-static puts a static busybox there (a dynamic one would not run in the initramfs).
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian busybox-static)';
  const k = findGuestKernel();
  return typeof k === 'string' ? k : false;
}

/**
 * Module files (relative to the modules dir) to insmod, dependencies first,
 * for `wanted` module names, from modules.dep text ("path: dep dep ...", each
 * dependency list already transitive, deepest last).
 */
export function moduleLoadOrder(depText: string, wanted: string[]): string[] {
  const deps = new Map<string, string[]>();
  const byName = new Map<string, string>();
  for (const line of depText.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    deps.set(m[1]!, m[2]!.split(/\s+/).filter(Boolean));
    byName.set(m[1]!.split('/').pop()!.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_'), m[1]!);
  }
  const order: string[] = [];
  const visit = (path: string) => {
    if (order.includes(path)) return;
    for (const d of [...(deps.get(path) ?? [])].reverse()) visit(d);
    order.push(path);
  };
  for (const name of wanted) {
    const path = byName.get(name.replace(/-/g, '_'));
    if (!path) throw new Error(`module ${name} is not in modules.dep (built in? then leave it out)`);
    visit(path);
  }
  return order;
}

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo 1 > /proc/sys/kernel/printk
for m in $(cat /modules.order); do insmod "/lib/modules/$m" || echo "VMTEST insmod $m failed"; done
ip link set lo up; ip link set eth0 up
echo "VMTEST booted mac=$(cat /sys/class/net/eth0/address)"
udhcpc -i eth0 -O staticroutes -s /udhcpc.script -t 20 -T 2 -A 3 -n -q || echo "VMTEST dhcp failed"
hostname -F /etc/hostname
mkdir -p /www; hostname > /www/id
httpd -p 8080 -h /www
exec 0</dev/ttyS0 1>/dev/ttyS0 2>&1
stty -echo
echo "VMTEST ready"
while IFS= read -r line; do
  id=\${line%% *}; cmd=\${line#* }
  out=$(eval "$cmd" 2>&1); rc=$?
  echo "VMTEST begin $id"; [ -n "$out" ] && echo "$out"; echo "VMTEST end $id $rc"
done
`;

// udhcpc's hook: the /32, then option 121's routes (gateway on-link first), else the router option.
const UDHCPC = `#!/bin/sh
case "$1" in
bound|renew)
  ip addr flush dev $interface
  ip addr add $ip/$mask dev $interface
  if [ -n "$staticroutes" ]; then
    set -- $staticroutes
    while [ $# -ge 2 ]; do
      if [ "$2" = 0.0.0.0 ]; then ip route replace $1 dev $interface; else ip route replace $1 via $2 dev $interface; fi
      shift 2
    done
  elif [ -n "$router" ]; then ip route replace default via \${router%% *} dev $interface onlink; fi
  echo "VMTEST lease ip=$ip mask=$mask routes=$staticroutes router=$router serverid=$serverid" > /dev/ttyS0
  ;;
esac
`;

/** Builds the initramfs (uncompressed newc cpio) in `dir`; returns its path. */
export function buildInitramfs(dir: string, kernel: GuestKernel, hostname: string): string {
  const root = join(dir, 'root');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'lib/modules', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const order = moduleLoadOrder(readFileSync(join(kernel.modulesDir, 'modules.dep'), 'utf8'), ['virtio_pci', 'virtio_net']);
  const names: string[] = [];
  for (const rel of order) {
    const src = join(kernel.modulesDir, rel);
    const name = rel.split('/').pop()!.replace(/\.(xz|zst|gz)$/, '');
    const dst = join(root, 'lib/modules', name);
    if (rel.endsWith('.xz') || rel.endsWith('.zst') || rel.endsWith('.gz')) {
      const tool = rel.endsWith('.xz') ? 'xz' : rel.endsWith('.zst') ? 'zstd' : 'gzip';
      const r = spawnSync(tool, ['-dc', src], { maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`${tool} -dc ${src} failed: ${r.stderr}`);
      writeFileSync(dst, r.stdout);
    } else copyFileSync(src, dst);
    names.push(name);
  }
  writeFileSync(join(root, 'modules.order'), names.join('\n') + '\n');
  writeFileSync(join(root, 'init'), INIT, { mode: 0o755 });
  writeFileSync(join(root, 'udhcpc.script'), UDHCPC, { mode: 0o755 });
  writeFileSync(join(root, 'etc/hostname'), hostname + '\n');
  const out = join(dir, 'initramfs.cpio');
  const r = spawnSync('sh', ['-c', `cd "${root}" && find . | cpio -o -H newc > "${out}"`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cpio failed: ${r.stderr}`);
  return out;
}

export interface GuestOptions {
  netns: string;
  tap: string;
  mac: string;
  kernel: GuestKernel;
  initramfs: string;
}

/** One QEMU guest; its serial console is this object's line stream. */
export class Guest {
  private child: ChildProcess | undefined;
  private buffer = '';
  readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  private seq = 0;

  start(o: GuestOptions): void {
    const args = [
      'netns', 'exec', o.netns, 'qemu-system-x86_64',
      '-machine', 'q35,accel=tcg', '-m', '256', '-smp', '1', '-no-reboot',
      '-display', 'none', '-monitor', 'none', '-serial', 'stdio',
      '-kernel', o.kernel.vmlinuz, '-initrd', o.initramfs,
      '-append', `console=ttyS0 loglevel=1 panic=-1`,
      '-netdev', `tap,id=n0,ifname=${o.tap},script=no,downscript=no`,
      '-device', `virtio-net-pci,netdev=n0,mac=${o.mac},romfile=`,
    ];
    const child = spawn('ip', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    const take = (d: Buffer) => {
      this.buffer += d.toString().replace(/\r/g, '');
      const parts = this.buffer.split('\n');
      this.buffer = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const w of this.waiters.splice(0)) w();
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.on('exit', () => {
      this.lines.push(`VMTEST qemu exited`);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** The first console line matching `re` (from line `from` on), waiting up to `timeoutMs`. */
  async waitLine(re: RegExp, timeoutMs: number, from = 0): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.slice(from).find((l) => re.test(l));
      if (hit !== undefined) return hit;
      if (this.lines.includes('VMTEST qemu exited')) throw new Error(`guest exited; console:\n${this.console()}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`guest: no line matching ${re} within ${timeoutMs} ms; console:\n${this.console()}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Runs a shell command in the guest; its output and exit code. */
  async run(cmd: string, timeoutMs = 60_000): Promise<{ code: number; out: string }> {
    const id = `c${++this.seq}`;
    const from = this.lines.length;
    this.child!.stdin!.write(`${id} ${cmd}\n`);
    const endLine = await this.waitLine(new RegExp(`^VMTEST end ${id} \\d+$`), timeoutMs, from);
    const all = this.lines.slice(from);
    const b = all.findIndex((l) => l === `VMTEST begin ${id}`);
    const e = all.indexOf(endLine);
    return { code: Number(endLine.split(' ').pop()), out: all.slice(b + 1, e).join('\n') };
  }

  console(): string {
    return this.lines.slice(-60).join('\n');
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
}
