#!/usr/bin/env python3
"""Writes a deterministic multi-file, mixed-format log corpus for rootline's benchmarks.

Usage: bench/gen-corpus.py OUT_DIR SIZE_MB

The corpus imitates a small fleet of OpenStack-on-Kubernetes compute nodes: per node a syslog file
(busybox/rsyslog shape with kernel lines), a journalctl short-iso export, a dmesg ring buffer, kubelet
klog, containerd logfmt, a CRI container log, nova-compute oslo.log and libvirtd's log. Content is drawn
from a fixed vocabulary with a fixed seed, so the same arguments always give the same bytes. Roughly
one line in two thousand is a storage fault (path down, I/O error, hung task) so rule benchmarks have
something to find. Times advance monotonically per file with small jitter; nodes log in KST or UTC.
"""

import os
import random
import sys

HOSTS = [f"s-dcn{n:02d}-com6{n:02d}-krw1a" for n in range(31, 39)]
START = 1760313600  # 2025-10-13T00:00:00Z
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def civil(ts, off):
    import time as _t
    return _t.gmtime(ts + off)


def bsd(ts, off):
    t = civil(int(ts), off)
    return f"{MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"


def iso(ts, off, sep="T", frac=6, zone=True):
    t = civil(int(ts), off)
    # Truncate (never round) the fraction, as loggers do: rounding up would step back a second.
    f = "." + f"{int(ts % 1 * 10**frac):0{frac}d}" if frac else ""
    z = ""
    if zone:
        z = "Z" if off == 0 else f"+{off // 3600:02d}:00"
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}{sep}{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}{f}{z}"


def klog_stamp(ts, off):
    t = civil(int(ts), off)
    return f"{t.tm_mon:02d}{t.tm_mday:02d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{int(ts % 1 * 1e6):06d}"


NOISE_DAEMON = [
    ("systemd", "Started Session {n} of user stack."),
    ("CRON", "(root) CMD (/usr/lib/sysstat/debian-sa1 1 1)"),
    ("sshd", "Accepted publickey for stack from 10.20.{a}.{b} port {p} ssh2: ED25519 SHA256:3kq{n}"),
    ("chronyd", "Selected source 10.20.0.{a}"),
    ("multipathd", "mpath{c}: load table [0 {s} multipath 1 queue_if_no_path 1 alua 2 1 service-time 0 1 1 65:{m} 1]"),
    ("multipathd", "sd{d}: add path (uevent)"),
    ("ovs-vswitchd", "ovs|{n}|connmgr|INFO|br-int<->unix#{a}: {b} flow_mods in the last 59 s ({b} adds)"),
    ("neutron-openvswitch-agent", "Agent rpc_loop - iteration:{n} completed. Processed ports statistics"),
]
NOISE_KERNEL = [
    "IPv6: ADDRCONF(NETDEV_CHANGE): tap{h}: link becomes ready",
    "br-int: port {a}(tap{h}) entered forwarding state",
    "scsi {a}:0:0:{b}: Direct-Access     LIO-ORG  TCMU device      0002 PQ: 0 ANSI: 5",
    "sd {a}:0:0:{b}: [sd{d}] {s} 512-byte logical blocks: (10.7 GB/10.0 GiB)",
    "sd {a}:0:0:{b}: Attached scsi generic sg{a} type 0",
    "kvm: {n}: cpu{a} disabled perfctr wrmsr: 0xc2 data 0xffff",
]
FAULTS_KERNEL = [
    "device-mapper: multipath: 253:{a}: Failing path 65:{m}.",
    "I/O error, dev sd{d}, sector {s} op 0x1:(WRITE) flags 0x8800 phys_seg 1 prio class 0",
    "blk_update_request: I/O error, dev sd{d}, sector {s}",
    "INFO: task qemu-system-x86:{n} blocked for more than 120 seconds.",
]
KLOG = [
    ("I", "kubelet.go:2414", '"SyncLoop (PLEG): event for pod" pod="openstack/nova-compute-{h}" event={{ID:{h} Type:ContainerStarted}}'),
    ("I", "prober.go:107", '"Probe succeeded" probeType="Readiness" pod="openstack/libvirt-libvirt-default-{h}" containerName="libvirt"'),
    ("W", "reflector.go:424", "k8s.io/client-go/informers/factory.go:150: watch of *v1.Node ended with: very short watch"),
    ("I", "kuberuntime_manager.go:1029", '"Message for Container of pod" containerName="nova-compute" containerStatusID={{Type:containerd ID:{h}}}'),
]
FAULT_KLOG = ('E', "prober.go:104", '"Probe failed" probeType="Liveness" pod="openstack/libvirt-libvirt-default-{h}" podUID="{h}" containerName="libvirt" probeResult="failure" output="command timed out"')
LOGFMT = [
    ("info", "StartContainer for \\\"{h}\\\" returns successfully"),
    ("info", "ImageCreate event name:\\\"docker.io/openstackhelm/nova:2025.1-ubuntu_jammy\\\" labels:{{key:\\\"io.cri-containerd.image\\\" value:\\\"managed\\\"}}"),
    ("info", "shim disconnected\" id=\"{h}\" namespace=\"k8s.io"),
    ("warning", "cleaning up after shim disconnected\" id=\"{h}\" namespace=\"k8s.io"),
]
OSLO = [
    ("INFO", "nova.compute.manager", "[req-{u} - - - - -] [instance: {u}] VM Resumed (Lifecycle Event)"),
    ("INFO", "nova.compute.resource_tracker", "[req-{u} - - - - -] Final resource view: name={host} phys_ram=515412MB used_ram={n}MB"),
    ("DEBUG", "oslo_concurrency.lockutils", "[req-{u} - - - - -] Lock \"compute_resources\" acquired by \"nova.compute.resource_tracker.ResourceTracker._update_available_resource\" :: waited 0.000s"),
    ("WARNING", "nova.virt.libvirt.driver", "[req-{u} - - - - -] [instance: {u}] Timeout waiting for [('network-vif-plugged', '{u}')]"),
]
LIBVIRT = [
    ("info", "virObjectUnref:378", "OBJECT_UNREF: obj=0x7f{h}"),
    ("warning", "qemuDomainObjTaint:6075", "Domain id={a} name='instance-0000{h4}' uuid={u} is tainted: custom-monitor"),
    ("error", "virNetSocketReadWire:1791", "End of file while reading data: Input/output error"),
]


def fill(tpl, r, host):
    return tpl.format(
        n=r.randrange(1, 99999), a=r.randrange(0, 255), b=r.randrange(0, 255), p=r.randrange(1024, 65535),
        c="abcdefgh"[r.randrange(8)], d="abcdefghijklmnopqrstuvwxyz"[r.randrange(26)] + "abcdefghijklmnopqrstuvwxyz"[r.randrange(26)],
        m=r.randrange(0, 16) * 16, s=r.randrange(0, 20_000_000), h="%012x" % r.getrandbits(48), h4="%04x" % r.getrandbits(16),
        u="%08x-%04x-%04x-%04x-%012x" % (r.getrandbits(32), r.getrandbits(16), r.getrandbits(16), r.getrandbits(16), r.getrandbits(48)),
        host=host,
    )


def writer(path, budget, line_fn):
    size = 0
    with open(path, "w", buffering=1 << 20) as f:
        while size < budget:
            line = line_fn()
            f.write(line)
            f.write("\n")
            size += len(line) + 1


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out, size_mb = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    kinds = ["syslog", "journal", "dmesg", "kubelet", "containerd", "cri", "nova", "libvirtd"]
    per_file = size_mb * 1024 * 1024 // (len(HOSTS) * len(kinds))
    for hi, host in enumerate(HOSTS):
        off = 9 * 3600 if hi % 2 == 0 else 0
        for kind in kinds:
            r = random.Random(f"{host}/{kind}")
            state = {"t": START + r.random() * 60, "boot": 86_400.0 + r.random() * 1000}

            def tick():
                state["t"] += r.random() * 0.02
                state["boot"] = state["t"] - START + 86_400.0
                return state["t"]

            def fault():
                return r.random() < 0.0005

            def syslog():
                ts = tick()
                if r.random() < 0.35:
                    msg = fill(r.choice(FAULTS_KERNEL if fault() else NOISE_KERNEL), r, host)
                    return f"{bsd(ts, off)} {host} kernel: [{state['boot']:12.6f}] {msg}"
                prog, tpl = r.choice(NOISE_DAEMON)
                if fault():
                    prog, tpl = "multipathd", "mpath{c}: remaining active paths: 0"
                return f"{bsd(ts, off)} {host} {prog}[{r.randrange(100, 40000)}]: {fill(tpl, r, host)}"

            def journal():
                ts = tick()
                prog, tpl = r.choice(NOISE_DAEMON)
                if fault():
                    prog, tpl = "multipathd", "sd{d}: path down, remaining active paths: 0"
                t = iso(ts, off, frac=0, zone=False) + ("+0900" if off else "+0000")
                return f"{t} {host} {prog}[{r.randrange(100, 40000)}]: {fill(tpl, r, host)}"

            def dmesg():
                tick()
                tpl = r.choice(FAULTS_KERNEL if fault() else NOISE_KERNEL)
                return f"[{state['boot']:12.6f}] {fill(tpl, r, host)}"

            def kubelet():
                ts = tick()
                sev, caller, tpl = FAULT_KLOG if fault() else r.choice(KLOG)
                return f"{sev}{klog_stamp(ts, off)}    {r.randrange(1000, 9999)} {caller}] {fill(tpl, r, host)}"

            def containerd():
                ts = tick()
                lvl, tpl = r.choice(LOGFMT)
                return f'time="{iso(ts, off, frac=9)}" level={lvl} msg="{fill(tpl, r, host)}"'

            def cri():
                ts = tick()
                sev, caller, tpl = r.choice(KLOG)
                return f"{iso(ts, 0, frac=9)} stderr F {sev}{klog_stamp(ts, 0)}    1 {caller}] {fill(tpl, r, host)}"

            def nova():
                ts = tick()
                lvl, logger, tpl = r.choice(OSLO)
                return f"{iso(ts, off, sep=' ', frac=3, zone=False)} {r.randrange(1000, 9999)} {lvl} {logger} {fill(tpl, r, host)}"

            def libvirtd():
                ts = tick()
                lvl, func, tpl = r.choice(LIBVIRT)
                t = iso(ts, 0, sep=" ", frac=3, zone=False)
                return f"{t}+0000: {r.randrange(1000, 9999)}: {lvl} : {func} : {fill(tpl, r, host)}"

            fn = locals()[kind]
            name = {"syslog": "messages", "journal": "journal.txt", "dmesg": "dmesg.txt", "kubelet": "kubelet.log",
                    "containerd": "containerd.log", "cri": "libvirt_0.log", "nova": "nova-compute.log",
                    "libvirtd": "libvirtd.log"}[kind]
            d = os.path.join(out, host)
            os.makedirs(d, exist_ok=True)
            writer(os.path.join(d, name), per_file, fn)
        with open(os.path.join(out, host, "hostname"), "w") as f:
            f.write(host + "\n")


if __name__ == "__main__":
    main()
