#!/usr/bin/env python3
"""Packs the evidence of examples/incidents/iscsi-terminal as the sosreport the operator would have
taken on the same node at the same moment, and writes it as a .tar.xz into
examples/incidents/iscsi-sosreport/.

    python3 examples/incidents/make-sosreport.py [BUNDLE_DIR [OUT_DIR]]

The layout is sos 4.5's on Ubuntu 22.04 (see the sos plugins named beside each file below:
github sosreport/sos, sos/report/plugins/*.py at tag 4.5.6): a top-level directory
sosreport-<host>-<date>-<random>/, command outputs under sos_commands/<plugin>/<mangled command>,
copied files at their own paths, and the root symlinks sos makes (date -> timedatectl, hostname,
uptime, ps, uname). The archive is made with `tar -C dir -cJf x.tar.xz .`, so every member name
starts with `./`; owners, order and mtimes are fixed so that the same input gives the same archive.

What comes from the bundle: the journal (its short-precise lines rewritten in journalctl's default
`short` format, which is what `journalctl --no-pager` prints), the outputs of the commands the
operator also ran (multipath -ll, iscsiadm -m session -P 3, /etc/multipath.conf), the ps rows of
qemu and the defunct libvirtd, and dmesg (the journal's kernel lines with their seconds since boot,
the boot time being learnt from the operator's `dmesg` against the journal). What sos adds that
the terminal session did not show is written here from the same facts: the other processes and the
threads of `ps auxwwwm`, `ps axo ... wchan ... lstart`, lsblk, `lsscsi -i`, dmsetup, date,
timedatectl, uptime, hostname, uname and the kernel's attach messages of the sessions in dmesg.
"""
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "iscsi-terminal")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "iscsi-sosreport")
HOST = "blr1-cmp-3017"
ZONE = ZoneInfo("Asia/Kolkata")
YEAR = 2025
PROMPT = f"ops@{HOST}:~$ "
NAME = f"sosreport-{HOST}-2025-03-11-qvwkdmr"
# sos ran right after the operator exported the journal (sos report --batch, 09:55:04 IST)
SOS_START = dt.datetime(2025, 3, 11, 9, 55, 4, 318221, tzinfo=ZONE)
SOS_END = SOS_START + dt.timedelta(seconds=131, microseconds=402112)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def terminal_blocks():
    blocks, cur = [], None
    for line in read(os.path.join(BUNDLE, "terminal-session.txt")):
        if line.startswith(PROMPT):
            cur = (line[len(PROMPT):], [])
            blocks.append(cur)
        elif cur is not None:
            cur[1].append(line)
    return blocks


def block(blocks, cmd):
    for c, out in blocks:
        if c == cmd:
            return out
    raise SystemExit(f"no `{cmd}` in the terminal session")


JLINE = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d)\.(\d{6}) (\S+) (.*)$")


def journal():
    """(aware local datetime, short-format line, source and message) for each journal line."""
    lines = read(os.path.join(BUNDLE, f"journal-{HOST}.txt"))
    header, entries = lines[0], []
    for line in lines[1:]:
        m = JLINE.match(line)
        if not m:
            raise SystemExit(f"unexpected journal line: {line!r}")
        t = dt.datetime.strptime(f"{YEAR} {m.group(1)}", "%Y %b %d %H:%M:%S").replace(
            microsecond=int(m.group(2)), tzinfo=ZONE)
        entries.append((t, f"{m.group(1)} {m.group(3)} {m.group(4)}", m.group(4)))
    return header, entries


def boot_time(blocks, entries):
    """The boot instant, from a line the operator's dmesg and the journal both hold."""
    dm = block(blocks, "sudo dmesg | grep -E 'connection[0-9]|session[0-9]|Failing path|INFO: task|rejecting' | tail -n 20")
    m = re.match(r"^\[\s*(\d+\.\d{6})\] (.*)$", dm[0])
    secs, text = float(m.group(1)), m.group(2)
    for t, _line, rest in entries:
        if rest == f"kernel: {text}":
            return t - dt.timedelta(seconds=secs)
    raise SystemExit("the operator's dmesg line is not in the journal")


def mono(t, boot):
    d = t - boot
    return d.days * 86400 + d.seconds + d.microseconds / 1e6


# ---- the processes sos sees (ps auxwwwm, ps axo ... wchan lstart) ------------------------------------
# (user, pid, ppid, pgid, sid, %cpu, %mem, vsz, rss, tty, state, start, time, command, threads)
# threads: (state, time) of each thread after the first; wchan per process for `ps axo`.
def processes(ps_rows):
    rows = {int(r.split()[1]): r for r in ps_rows}

    def cmd_of(pid):
        return rows[pid].split(None, 10)[10]

    mar04 = dt.datetime(2025, 3, 4, 16, 21, 7, tzinfo=ZONE)
    jan20 = dt.datetime(2025, 1, 20, 20, 47, 33, tzinfo=ZONE)
    P = [
        ("root", 1, 0, 1, 1, 0.0, 0.0, 168212, 13240, "?", "Ss", jan20, "11:02", "/sbin/init", [], "do_epoll_wait"),
        ("root", 2, 0, 0, 0, 0.0, 0.0, 0, 0, "?", "S", jan20, "0:04", "[kthreadd]", [], "kthreadd"),
        ("root", 611, 1, 611, 611, 0.0, 0.1, 89224, 41120, "?", "S<s", jan20, "4:12", "/lib/systemd/systemd-journald", [], "do_epoll_wait"),
        ("root", 655, 1, 655, 655, 0.0, 0.0, 25440, 6912, "?", "Ss", jan20, "0:41", "/lib/systemd/systemd-udevd", [], "do_epoll_wait"),
        ("root", 1102, 1, 1102, 1102, 0.1, 0.0, 280436, 27188, "?", "SLsl", jan20, "71:19", "/sbin/multipathd -d -s",
         [("SLsl", "0:00"), ("SLsl", "1:02"), ("SLsl", "69:40"), ("SLsl", "0:37"), ("SLsl", "0:00"), ("SLsl", "0:00")], "do_epoll_wait"),
        ("root", 1012, 1, 1012, 1012, 0.0, 0.0, 17944, 7812, "?", "Ss", jan20, "0:52", "/lib/systemd/systemd-logind", [], "do_epoll_wait"),
        ("root", 1435, 1, 1435, 1435, 0.0, 0.0, 6700, 2460, "?", "Ss", jan20, "0:01", "/sbin/iscsid", [], "do_epoll_wait"),
        ("root", 1436, 1, 1435, 1435, 0.0, 0.0, 7224, 5812, "?", "S<Ls", jan20, "3:48", "/sbin/iscsid", [], "do_sys_poll"),
        ("root", 1890, 1, 1890, 1890, 0.9, 0.1, 4288152, 121860, "?", "Ssl", jan20, "648:31", "/usr/bin/containerd",
         [("Ssl", "61:12"), ("Ssl", "70:40"), ("Ssl", "58:03"), ("Ssl", "66:27")], "futex_wait_queue"),
        ("root", 2143, 1, 2143, 2143, 2.1, 0.2, 5021980, 172412, "?", "Ssl", jan20, "1493:07",
         "/usr/bin/kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf "
         "--config=/var/lib/kubelet/config.yaml --container-runtime-endpoint=unix:///run/containerd/containerd.sock "
         "--node-ip=10.40.2.17 --pod-infra-container-image=registry.k8s.io/pause:3.9",
         [("Ssl", "212:40"), ("Ssl", "198:02"), ("Ssl", "233:19"), ("Ssl", "207:51")], "futex_wait_queue"),
        ("root", 2817690, 1, 2817690, 2143, 0.0, 0.0, 1238712, 14220, "?", "Sl", mar04, "2:11",
         "/usr/bin/containerd-shim-runc-v2 -namespace k8s.io -id d10bebbba53fad310858e8531beed357c458344c51f9af432002f7b267c1ce46 -address /run/containerd/containerd.sock",
         [("Sl", "0:31"), ("Sl", "0:29")], "futex_wait_queue"),
        ("65535", 2817712, 2817690, 2817712, 2817712, 0.0, 0.0, 1020, 4, "?", "Ss", mar04, "0:00", "/pause", [], "do_sys_pause"),
        ("root", 2817740, 2817690, 2817702, 2817702, 0.0, 0.0, 0, 0, "?", "Zl", mar04, "52:18", None, [("Dl", "0:41")], "-"),
        ("64055", 2866093, 2817690, 2866093, 2866093, 41.8, 6.2, 17828312, 8214040, "?", "Sl", mar04.replace(hour=16, minute=22), "4218:11", None,
         [("Sl", "0:00"), ("Sl", "0:12"), ("Sl", "1051:33"), ("Sl", "1049:02"), ("Sl", "1062:47"), ("Sl", "1054:37")], "do_sys_poll"),
        ("64055", 2902275, 2817690, 2902275, 2902275, 1.2, 6.2, 17822184, 8197320, "?", "Dl", dt.datetime(2025, 3, 6, 11, 4, 52, tzinfo=ZONE), "112:07", None,
         [("Sl", "0:00"), ("Sl", "0:02"), ("Sl", "27:31"), ("Sl", "28:03"), ("Sl", "27:12"), ("Sl", "29:19")], "blk_mq_get_tag"),
        ("root", 2930377, 2143, 2930377, 2930377, 0.0, 0.0, 1238456, 13988, "?", "Sl", mar04, "1:58",
         "/usr/bin/containerd-shim-runc-v2 -namespace k8s.io -id 61c2e7d0fb9a4b3e8d5c7a1f2e4b6d8c0a9f7e5d3b1c2a4e6f8d0b2c4e6a8f0d -address /run/containerd/containerd.sock",
         [("Sl", "0:27")], "futex_wait_queue"),
        ("42424", 2930466, 2930377, 2930466, 2930466, 0.6, 0.4, 1881200, 301772, "?", "Ssl", mar04, "73:40",
         "/var/lib/openstack/bin/python3 /var/lib/openstack/bin/nova-compute --config-file /etc/nova/nova.conf --config-file /tmp/pod-shared/nova-console.conf --config-file /tmp/pod-shared/nova-libvirt.conf --config-file /tmp/pod-shared/nova-compute-fqdn.conf --config-file /tmp/pod-shared/nova-hypervisor.conf",
         [("Ssl", "4:02"), ("Ssl", "0:00")], "do_epoll_wait"),
        ("root", 3941022, 1, 3941022, 3941022, 0.0, 0.0, 17176, 11008, "?", "Ss", dt.datetime(2025, 3, 11, 9, 40, 51, tzinfo=ZONE), "0:00",
         "sshd: ops [priv]", [], "do_sys_poll"),
        ("root", 3948812, 3948809, 3948809, 3941110, 8.2, 0.1, 48812, 39120, "pts/2", "S+", SOS_START, "0:06", "/usr/bin/python3 /usr/bin/sos report --batch",
         [], "do_wait"),
    ]
    out = []
    for p in P:
        user, pid, ppid, pgid, sid, cpu, mem, vsz, rss, tty, stat, start, time, cmd, threads, wchan = p
        if cmd is None:
            cmd = cmd_of(pid)
        out.append(dict(user=user, pid=pid, ppid=ppid, pgid=pgid, sid=sid, cpu=cpu, mem=mem, vsz=vsz, rss=rss, tty=tty,
                        stat=stat, start=start, time=time, cmd=cmd, threads=threads, wchan=wchan))
    return out


def ps_start(t):
    return t.strftime("%H:%M") if t.date() == SOS_START.date() else t.strftime("%b%d")


def ps_auxwwwm(procs):
    out = ["USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"]
    for p in procs:
        out.append(f"{p['user']:<8} {p['pid']:>7} {p['cpu']:4.1f} {p['mem']:4.1f} {p['vsz']:>6} {p['rss']:>5} {p['tty']:<8} "
                   f"{'-':<4} {ps_start(p['start']):>5} {p['time']:>6} {p['cmd']}")
        main = [(p["stat"], p["time"])] + p["threads"]
        for stat, time in main:
            out.append(f"{p['user']:<8} {'-':>7} {p['cpu']:4.1f} {'-':>4} {'-':>6} {'-':>5} {'-':<8} "
                       f"{stat:<4} {ps_start(p['start']):>5} {time:>6} -")
    return out


def cputime(mmss):
    """ps's [dd-]hh:mm:ss from the mm:ss of `ps aux`."""
    m, s = (int(x) for x in mmss.split(":"))
    d, h = divmod(m // 60, 24)
    return (f"{d}-" if d else "") + f"{h:02d}:{m % 60:02d}:{s:02d}"


def ps_axo(procs):
    out = ["F S   UID     PID    PPID    PGID     SID CLS PRI ADDR    SZ WCHAN                               STARTED TT           TIME CMD"]
    for p in procs:
        uid = 0 if p["user"] == "root" else int(p["user"])
        started = p["start"].strftime("%a %b ") + f"{p['start'].day:2d}" + p["start"].strftime(" %H:%M:%S %Y")
        out.append(f"{1 if p['pid'] == 2 else 4 if p['pid'] == 1 else 0} {p['stat'][0]} {uid:>5} {p['pid']:>7} {p['ppid']:>7} "
                   f"{p['pgid']:>7} {p['sid']:>7} TS   19 -    {p['vsz'] // 4:>5} {p['wchan'][:20]:<20} {started:>24} "
                   f"{p['tty']:<8} {cputime(p['time']):>10} {p['cmd']}")
    return out


def lsblk():
    return [
        "NAME                      MAJ:MIN RM   SIZE RO TYPE  MOUNTPOINTS",
        "sda                         8:0    0 893.1G  0 disk  ",
        "├─sda1                      8:1    0     1G  0 part  /boot/efi",
        "├─sda2                      8:2    0     2G  0 part  /boot",
        "└─sda3                      8:3    0 890.1G  0 part  ",
        "  └─ubuntu--vg-ubuntu--lv 253:0    0   100G  0 lvm   /",
        "sdc                         8:32   0    80G  0 disk  ",
        "└─mpathak                 253:7    0    80G  0 mpath ",
        "sdf                         8:80   0    80G  0 disk  ",
        "└─mpathak                 253:7    0    80G  0 mpath ",
        "sdg                         8:96   0   100G  0 disk  ",
        "└─mpathal                 253:9    0   100G  0 mpath ",
        "sdh                         8:112  0   100G  0 disk  ",
        "└─mpathal                 253:9    0   100G  0 mpath ",
    ]


def lsscsi_i(lsscsi, mpll):
    wwid = {}
    cur = None
    for line in mpll:
        m = re.match(r"^(\S+) \((\w+)\) dm-\d+ ", line)
        if m:
            cur = m.group(2)
        m = re.search(r"\d+:\d+:\d+:\d+\s+(sd\w+) ", line)
        if m and cur:
            wwid[m.group(1)] = cur
    wwid["sda"] = "3600605b00f2c81b02d8a7f3c1e4b9a07"
    out = []
    for line in lsscsi:
        dev = line.rsplit(None, 1)[1]
        name = dev.rsplit("/", 1)[-1]
        out.append(f"{line}  {wwid.get(name, '-')}" if dev != "-" else f"{line}       -")
    return out


def dmesg(entries, boot):
    """The kernel ring buffer: the sessions' attach messages of March 6, then the journal's kernel lines."""
    attach = dt.datetime(2025, 3, 6, 11, 4, 31, 250118, tzinfo=ZONE)
    early = [
        (0.000, "scsi host9: iSCSI Initiator over TCP/IP"),
        (0.019, "scsi 9:0:0:5: Direct-Access     3PARdata VV               3315 PQ: 0 ANSI: 6"),
        (0.020, "scsi 9:0:0:254: Enclosure         3PARdata SES              3315 PQ: 0 ANSI: 6"),
        (0.022, "sd 9:0:0:5: Attached scsi generic sg7 type 0"),
        (0.022, "sd 9:0:0:5: [sdg] 209715200 512-byte logical blocks: (107 GB/100 GiB)"),
        (0.023, "sd 9:0:0:5: [sdg] Write Protect is off"),
        (0.023, "sd 9:0:0:5: [sdg] Mode Sense: 87 00 00 08"),
        (0.024, "sd 9:0:0:5: [sdg] Write cache: disabled, read cache: enabled, doesn't support DPO or FUA"),
        (0.031, "sd 9:0:0:5: [sdg] Attached SCSI disk"),
        (0.612, "scsi host10: iSCSI Initiator over TCP/IP"),
        (0.634, "scsi 10:0:0:5: Direct-Access     3PARdata VV               3315 PQ: 0 ANSI: 6"),
        (0.635, "scsi 10:0:0:254: Enclosure         3PARdata SES              3315 PQ: 0 ANSI: 6"),
        (0.637, "sd 10:0:0:5: Attached scsi generic sg9 type 0"),
        (0.637, "sd 10:0:0:5: [sdh] 209715200 512-byte logical blocks: (107 GB/100 GiB)"),
        (0.638, "sd 10:0:0:5: [sdh] Write Protect is off"),
        (0.638, "sd 10:0:0:5: [sdh] Mode Sense: 87 00 00 08"),
        (0.639, "sd 10:0:0:5: [sdh] Write cache: disabled, read cache: enabled, doesn't support DPO or FUA"),
        (0.647, "sd 10:0:0:5: [sdh] Attached SCSI disk"),
    ]
    out = [f"[{mono(attach + dt.timedelta(seconds=d), boot):14.6f}] {m}" for d, m in early]
    for t, _line, rest in entries:
        if rest.startswith("kernel: "):
            out.append(f"[{mono(t, boot):14.6f}] {rest[len('kernel: '):]}")
    return out


def c_date(t):
    return t.strftime("%a %b ") + f"{t.day:2d}" + t.strftime(" %H:%M:%S %Z %Y")


def main():
    blocks = terminal_blocks()
    header, entries = journal()
    boot = boot_time(blocks, entries)
    mpll = block(blocks, "sudo multipath -ll")
    ps_rows = [r for r in block(blocks, "sudo ps auxww | head -1; sudo ps auxww | grep -E '[q]emu|[l]ibvirt'") if not r.startswith("USER")]
    procs = processes(ps_rows)
    t_date = SOS_START + dt.timedelta(seconds=1, microseconds=204118)
    t_up = t_date + dt.timedelta(microseconds=880412)
    up = t_up - boot
    utc = dt.timezone.utc
    files = {
        "sos_commands/logs/journalctl_--no-pager": [header] + [e[1] for e in entries],
        "sos_commands/logs/journalctl_--no-pager_--boot": [header] + [e[1] for e in entries],
        "sos_commands/kernel/dmesg": dmesg(entries, boot),
        "sos_commands/kernel/uname_-a": [f"Linux {HOST} 5.15.0-131-generic #141-Ubuntu SMP Fri Jan 10 21:18:28 UTC 2025 x86_64 x86_64 x86_64 GNU/Linux"],
        "sos_commands/multipath/multipath_-ll": mpll,
        "sos_commands/iscsi/iscsiadm_-m_session_-P_3": block(blocks, "sudo iscsiadm -m session -P 3"),
        "sos_commands/scsi/lsscsi": lsscsi_i(block(blocks, "sudo lsscsi"), mpll),
        "sos_commands/block/lsblk": lsblk(),
        "sos_commands/devicemapper/dmsetup_info_-c": [
            "Name                  Maj Min Stat Open Targ Event  UUID",
            "mpathak               253   7 L--w    1    1      2 mpath-360002ac000000000000013c80002a6f0",
            "mpathal               253   9 L--w    1    1      6 mpath-360002ac000000000000014a10002a7c1",
            "ubuntu--vg-ubuntu--lv 253   0 L--w    1    1      0 LVM-Hq3ZkR2v0dXQb5b7y1m9nTtJcW8pVf4sA6eD1gC3hK7jL0oN2qP5rS8uT1vW4xY7aB",
        ],
        "sos_commands/devicemapper/dmsetup_table": [
            "mpathak: 0 167772160 multipath 1 queue_if_no_path 1 alua 1 1 service-time 0 2 1 8:32 1 8:80 1 ",
            "mpathal: 0 209715200 multipath 1 queue_if_no_path 1 alua 1 1 service-time 0 2 1 8:96 1 8:112 1 ",
            "ubuntu--vg-ubuntu--lv: 0 209715200 linear 8:3 2048",
        ],
        "sos_commands/process/ps_auxwwwm": ps_auxwwwm(procs),
        "sos_commands/process/ps_axo_flags_state_uid_pid_ppid_pgid_sid_cls_pri_addr_sz_wchan_20_lstart_tty_time_cmd": ps_axo(procs),
        "sos_commands/date/date": [c_date(t_date)],
        "sos_commands/date/date_--utc": [c_date(t_date.astimezone(utc)).replace("UTC", "UTC")],
        "sos_commands/date/hwclock": [f"{t_date + dt.timedelta(microseconds=310217):%Y-%m-%d %H:%M:%S.%f}+05:30"],
        "sos_commands/systemd/timedatectl": [
            f"               Local time: {t_date:%a %Y-%m-%d %H:%M:%S} IST",
            f"           Universal time: {t_date.astimezone(utc):%a %Y-%m-%d %H:%M:%S} UTC",
            f"                 RTC time: {t_date.astimezone(utc):%a %Y-%m-%d %H:%M:%S}",
            "                Time zone: Asia/Kolkata (IST, +0530)",
            "System clock synchronized: yes",
            "              NTP service: active",
            "          RTC in local TZ: no",
        ],
        "sos_commands/host/hostname": [HOST],
        "sos_commands/host/uptime": [f" {t_up:%H:%M:%S} up {up.days} days, {up.seconds // 3600:2d}:{up.seconds % 3600 // 60:02d},  1 user,  load average: 38.31, 38.22, 38.05"],
        "etc/multipath.conf": block(blocks, "cat /etc/multipath.conf"),
        "etc/iscsi/initiatorname.iscsi": ["## DO NOT EDIT OR REMOVE THIS FILE!",
                                          "## If you remove this file, the iSCSI daemon will not start.",
                                          "## If you change the InitiatorName, existing access control lists",
                                          "## may reject this initiator.  The InitiatorName must be unique",
                                          "## for each iSCSI initiator.  Do NOT duplicate iSCSI InitiatorNames.",
                                          "InitiatorName=iqn.2004-10.com.ubuntu:01:5e2b9c7d1a43"],
        "etc/hostname": [HOST],
        "sos_reports/manifest.json": [
            "{",
            '    "version": "4.5.6",',
            '    "cmdline": "sos report --batch",',
            f'    "start_time": "{SOS_START:%Y-%m-%d %H:%M:%S.%f}",',
            f'    "end_time": "{SOS_END:%Y-%m-%d %H:%M:%S.%f}",',
            f'    "run_time": "{(SOS_END - SOS_START).total_seconds():.6f}",',
            '    "compression": "xz",',
            '    "policy": "Ubuntu",',
            '    "sos_options": {"batch": true, "case_id": "", "label": ""}',
            "}",
        ],
    }
    links = {
        "date": "sos_commands/systemd/timedatectl",
        "hostname": "sos_commands/host/hostname",
        "uptime": "sos_commands/host/uptime",
        "ps": "sos_commands/process/ps_auxwwwm",
        "uname": "sos_commands/kernel/uname_-a",
    }
    stage = tempfile.mkdtemp()
    os.chmod(stage, 0o755)
    try:
        root = os.path.join(stage, NAME)
        for rel, lines in files.items():
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        os.makedirs(os.path.join(root, "etc"), exist_ok=True)
        shutil.copyfile(os.path.join(BUNDLE, "etc", "localtime"), os.path.join(root, "etc", "localtime"))
        for name, target in links.items():
            os.symlink(target, os.path.join(root, name))
        os.makedirs(OUT, exist_ok=True)
        archive = os.path.join(OUT, NAME + ".tar.xz")
        mtime = SOS_END.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        subprocess.run(["tar", "--sort=name", f"--mtime={mtime}", "--owner=0", "--group=0", "--numeric-owner",
                        "-C", stage, "-cJf", archive, "."], check=True, env=dict(os.environ, XZ_OPT="-9e -T1"))
        print(archive, os.path.getsize(archive), "bytes")
    finally:
        shutil.rmtree(stage)


if __name__ == "__main__":
    main()
