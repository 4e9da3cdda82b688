#!/usr/bin/env python3
"""Writes the example fleet `upgrade-wave`: the seed node and its peers on the evening of the upgrade.

Usage: examples/fleets/make-upgrade-wave.py   (rewrites the node folders under examples/fleets/upgrade-wave/)

- `s-dcn37-com604-krw1a/`: a copy of examples/incidents/seed-37 (the node that broke).
- six healthy peers going through the same Caracal -> Epoxy upgrade the same evening: a volume is
  attached (multipathd addmap, paths added) and later detached (devmap removed, paths removed),
  nova-compute is stopped and restarted on the new image `docker.io/openstackhelm/nova:2025.1-ubuntu_jammy`
  (containerd, kubectl events, nova-compute's own log), and kubelet reports the probes healthy.
- one peer (`s-dcn37-com608-krw1a`) with a harmless path flap: a path goes down and is reinstated
  within seconds; nothing else goes wrong.

Every line is invented, in the formats the seed node uses (journalctl short-iso in KST, containerd
logfmt and kubectl events in UTC, oslo.log in naive local time read with `etc/localtime`). The output
is deterministic: the same script always writes the same bytes.
"""

import json
import os
import random
import shutil
import time

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "upgrade-wave")
SEED = os.path.join(HERE, "..", "..", "incidents", "seed-37")
SEED_HOST = "s-dcn37-com604-krw1a"
IMAGE = "docker.io/openstackhelm/nova:2025.1-ubuntu_jammy"
KST = 9 * 3600
DAY = 1760313600  # 2025-10-13T00:00:00Z
# (host, nova upgrade minute after 19:00 KST, volume attach minute, detach minute, flap minute or None)
PEERS = [
    ("s-dcn37-com601-krw1a", 31, 12, 52, None),
    ("s-dcn37-com602-krw1a", 36, 18, 71, None),
    ("s-dcn37-com603-krw1a", 41, 24, 66, None),
    ("s-dcn37-com605-krw1a", 51, 9, 84, None),
    ("s-dcn37-com606-krw1a", 56, 27, 93, None),
    ("s-dcn37-com607-krw1a", 62, 33, 101, None),
    ("s-dcn37-com608-krw1a", 67, 15, 88, 75),
]


def kst(minute, sec=0):
    """Unix seconds of 2025-10-13 19:00 KST + minute:sec."""
    return DAY + 10 * 3600 + minute * 60 + sec


def j_time(ts):
    t = time.gmtime(ts + KST)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + "+0900"


def utc(ts, frac=None):
    ms = int(round(ts * 1000))
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))
    if frac is not None:
        s += f".{ms % 1000:03d}000000"
    return s + "Z"


def naive(ts):
    ms = int(round(ts * 1000))
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000 + KST)) + f".{ms % 1000:03d}"


def hexid(r, n=64):
    return "".join(r.choice("0123456789abcdef") for _ in range(n))


def uuid(r):
    h = hexid(r, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:]}"


def peer(host, up, attach, detach, flap):
    r = random.Random(host)
    d = os.path.join(HERE, host)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "journal"))
    os.makedirs(os.path.join(d, "kubectl"))
    os.makedirs(os.path.join(d, "var", "log", "nova"))
    os.makedirs(os.path.join(d, "etc"))
    shutil.copy(os.path.join(SEED, "etc", "localtime"), os.path.join(d, "etc", "localtime"))
    j = []  # (ts, program, message)
    cron_pid, sess = 30800 + r.randrange(100), 4100 + r.randrange(50)
    for m in range(0, 150, 5):
        if m % 10 == 0:
            j.append((kst(m, 1), f"CRON[{cron_pid + m}]", "(root) CMD (/usr/local/bin/node-exporter-textfile.sh >/dev/null 2>&1)"))
        j.append((kst(m, 3), "ovs-vswitchd[1874]", f"{41200 + m}|connmgr|INFO|br-int<->unix#{m % 7 + 1}: 4 flow_mods in the last 0 s (4 adds)"))
        j.append((kst(m, 21), "chronyd[1012]", "Selected source 10.20.0.1 (ntp1.krw1a.local)"))
        if m % 15 == 0:
            sess += 1
            j.append((kst(m, 31), "systemd[1]", f"Started Session {sess} of User ubuntu."))
            j.append((kst(m, 32), "systemd-logind[1220]", f"New session {sess} of user ubuntu."))
    # A volume attached and detached: multipathd adds and removes the map normally.
    hb = 10 + r.randrange(4)
    a, b = "ab"[r.randrange(2)], 16 * r.randrange(4)
    disks = [("sd" + "qrstuv"[r.randrange(3) * 2], 65, b), ("sd" + "qrstuv"[r.randrange(3) * 2 + 1], 65, b + 16)]
    mp = f"mpath{a}"
    for i, (dk, mj, mn) in enumerate(disks):
        j.append((kst(attach, 3), "kernel", f"sd {hb + i}:0:0:1: [{dk}] 2097152 512-byte logical blocks: (1.07 GB/1.00 GiB)"))
        j.append((kst(attach, 3), "kernel", f"sd {hb + i}:0:0:1: Attached SCSI disk"))
    (d0, _, m0), (d1, _, m1) = disks
    j.append((kst(attach, 5), "multipathd[2211]", f"{mp}: addmap [0 2097152 multipath 1 queue_if_no_path 1 alua 1 1 service-time 0 2 1 65:{m0} 1 65:{m1} 1]"))
    j.append((kst(attach, 5), "multipathd[2211]", f"{d0} [65:{m0}]: path added to devmap {mp}"))
    j.append((kst(attach, 5), "multipathd[2211]", f"{d1} [65:{m1}]: path added to devmap {mp}"))
    if flap is not None:
        # A harmless flap: one path down, reinstated four seconds later.
        j.append((kst(flap, 10), "multipathd[2211]", f"{mp}: {d1} - tur checker reports path is down"))
        j.append((kst(flap, 10), "multipathd[2211]", f"checker failed path 65:{m1} in map {mp}"))
        j.append((kst(flap, 10), "multipathd[2211]", f"{mp}: remaining active paths: 1"))
        j.append((kst(flap, 14), "multipathd[2211]", f"{mp}: {d1} - tur checker reports path is up"))
        j.append((kst(flap, 14), "multipathd[2211]", f"65:{m1}: reinstated"))
        j.append((kst(flap, 14), "multipathd[2211]", f"{mp}: remaining active paths: 2"))
    j.append((kst(detach, 13), "multipathd[2211]", f"{mp}: devmap removed"))
    for i, (dk, _, _) in enumerate(disks):
        j.append((kst(detach, 13), "kernel", f"sd {hb + i}:0:0:1: [{dk}] Synchronizing SCSI cache"))
        j.append((kst(detach, 14), "multipathd[2211]", f"{dk}: remove path (uevent)"))
    # nova-compute restarts on the new image; kubelet sees it ready and the probes healthy.
    pod = f"nova-compute-default-{hexid(r, 5)}"
    lpod = f"libvirt-libvirt-default-{hexid(r, 5)}"
    for k in range(3):
        j.append((kst(up, 40 + 5 * k), "kubelet[2304]", f'I1013 {time.strftime("%H:%M:%S", time.gmtime(kst(up, 40 + 5 * k) + KST))}.100000    2304 kubelet.go:2542] "SyncLoop (probe)" probe="readiness" status="ready" pod="openstack/{pod}"'))
    for m in range(up + 3, 150, 20):
        j.append((kst(m, 36), "kubelet[2304]", f'I1013 {time.strftime("%H:%M:%S", time.gmtime(kst(m, 36) + KST))}.100000    2304 kubelet.go:2542] "SyncLoop (probe)" probe="liveness" status="healthy" pod="openstack/{lpod}"'))
    j.sort(key=lambda x: x[0])
    with open(os.path.join(d, "journal", "journalctl-short-iso.txt"), "w") as f:
        f.write("-- Journal begins at Mon 2025-10-13 09:12:40 KST, ends at Mon 2025-10-13 21:30:02 KST. --\n")
        for ts, prog, msg in j:
            f.write(f"{j_time(ts)} {host} {prog}: {msg}\n")
    old, new, sandbox = hexid(r), hexid(r), hexid(r)
    t0 = kst(up, 0)
    with open(os.path.join(d, "containerd.log"), "w") as f:
        for ts, msg in [
            (t0 - 4.2, f'StopContainer for \\"{old}\\" with timeout 30 (s)'),
            (t0, f'PullImage \\"{IMAGE}\\"'),
            (t0 + 12.4, f'PullImage \\"{IMAGE}\\" returns image reference \\"sha256:4be1c0d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0\\"'),
            (t0 + 12.9, f'CreateContainer within sandbox \\"{sandbox}\\" for &ContainerMetadata{{Name:nova-compute,Attempt:0,}} returns container id \\"{new}\\"'),
            (t0 + 13.3, f'StartContainer for \\"{new}\\" returns successfully'),
        ]:
            f.write(f'time="{utc(ts, 9)}" level=info msg="{msg}"\n')
    items = []
    for n, (ts, reason, msg) in enumerate([
        (t0 + 12, "Pulled", f'Successfully pulled image "{IMAGE}" in 12.4s (12.4s including waiting)'),
        (t0 + 13, "Created", "Created container nova-compute"),
        (t0 + 13, "Started", "Started container nova-compute"),
    ]):
        items.append({
            "apiVersion": "v1", "count": 1, "eventTime": None, "firstTimestamp": utc(int(ts)),
            "involvedObject": {"apiVersion": "v1", "fieldPath": "spec.containers{nova-compute}", "kind": "Pod",
                               "name": pod, "namespace": "openstack"},
            "kind": "Event", "lastTimestamp": utc(int(ts)), "message": msg,
            "metadata": {"creationTimestamp": utc(int(ts)), "name": f"{pod}.186e0f1c9b1d000{n}", "namespace": "openstack"},
            "reason": reason, "reportingComponent": "kubelet", "reportingInstance": host,
            "source": {"component": "kubelet", "host": host}, "type": "Normal",
        })
    with open(os.path.join(d, "kubectl", "events.json"), "w") as f:
        json.dump({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}, f, indent=4)
        f.write("\n")
    nova = []
    for m in range(0, 150, 5):
        nova.append((kst(m, 47), f"INFO nova.compute.resource_tracker [None req-{uuid(r)} - - - - - -] Final resource view: name={host} phys_ram=515693MB used_ram={r.randrange(60, 120) * 1024}MB phys_disk=893GB used_disk=120GB total_vcpus=96 used_vcpus=24 pci_stats=[]"))
    inst, vol, req = uuid(r), uuid(r), uuid(r)
    nova.append((kst(attach, 1.1), f"INFO nova.compute.manager [req-{req} 9f0e1d2c 1a2b3c4d - - default default] [instance: {inst}] Attaching volume {vol} to /dev/vdb"))
    nova.append((kst(detach, 10.2), f"INFO nova.compute.manager [req-{uuid(r)} 9f0e1d2c 1a2b3c4d - - default default] [instance: {inst}] Detaching volume {vol}"))
    nova.append((t0 + 18.4, "INFO nova.service [-] Starting compute node (version 31.0.0)"))
    nova.append((t0 + 19.9, "INFO nova.virt.libvirt.driver [-] Connection event '1' reason 'None'"))
    nova.sort(key=lambda x: x[0])
    with open(os.path.join(d, "var", "log", "nova", "nova-compute.log"), "w") as f:
        for ts, msg in nova:
            pid = 7
            f.write(f"{naive(ts)} {pid} {msg}\n")


def main():
    seed_dst = os.path.join(HERE, SEED_HOST)
    shutil.rmtree(seed_dst, ignore_errors=True)
    shutil.copytree(SEED, seed_dst, ignore=shutil.ignore_patterns("README.md"))
    for p in PEERS:
        peer(*p)


if __name__ == "__main__":
    main()
