//! Unit tests of the terminal reader.

use super::*;
use crate::formats::testing::{run, Got};

fn session(text: &str) -> Vec<Got> {
    run(parser(&SourceCtx { path: "node12-session.txt".into(), ..SourceCtx::default() }), text)
}

fn recs(got: &[Got]) -> Vec<&Got> {
    got.iter().filter(|g| matches!(g, Got::Rec { .. })).collect()
}

fn field<'a>(g: &'a Got, k: &str) -> Option<&'a str> {
    let Got::Rec { fields, .. } = g else { return None };
    fields.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str())
}

fn rec(got: &[Got], line: u64) -> &Got {
    got.iter()
        .find(|g| matches!(g, Got::Rec { line: l, .. } if *l == line))
        .unwrap_or_else(|| panic!("no record at {line}: {got:?}"))
}

fn time(g: &Got) -> RawTime {
    let Got::Rec { time, .. } = g else { panic!() };
    *time
}

fn program(g: &Got) -> Option<&str> {
    let Got::Rec { program, .. } = g else { panic!() };
    program.as_deref()
}

fn host(g: &Got) -> Option<&str> {
    let Got::Rec { host, .. } = g else { panic!() };
    host.as_deref()
}

/// 2025-03-11 09:14:07 KST.
const T: i64 = 1_741_652_047 * NANOS;
const KST: RawTime = RawTime::Exact { unix_nanos: T, offset_secs: 9 * 3600 };

#[test]
fn prompts_of_every_shell() {
    let ok = |line: &str, host: Option<&str>, user: Option<&str>, cmd: &str| {
        let p = prompt(line.as_bytes(), false).unwrap_or_else(|| panic!("{line}"));
        assert_eq!(p.host.map(|h| String::from_utf8_lossy(h).into_owned()).as_deref(), host, "{line}");
        assert_eq!(p.user.map(|h| String::from_utf8_lossy(h).into_owned()).as_deref(), user, "{line}");
        assert_eq!(String::from_utf8_lossy(p.cmd), cmd, "{line}");
    };
    ok("ops@node12:~$ sudo multipath -ll", Some("node12"), Some("ops"), "sudo multipath -ll");
    ok("[root@node12 ~]# multipath -ll", Some("node12"), Some("root"), "multipath -ll");
    ok("root@node12:/# ls -l /dev/mapper", Some("node12"), Some("root"), "ls -l /dev/mapper");
    ok("root@node12:/var/log# tail messages", Some("node12"), Some("root"), "tail messages");
    ok("node12:~ # multipath -ll", Some("node12"), None, "multipath -ll");
    ok("ops@node12:~> lsblk", Some("node12"), Some("ops"), "lsblk");
    ok("ops@node12 ~ % lsblk", Some("node12"), Some("ops"), "lsblk");
    ok("sh-5.2# multipath -ll", None, None, "multipath -ll");
    ok("bash-5.1$ virsh list", None, None, "virsh list");
    ok(
        "(overcloud) [stack@undercloud-0 ~]$ openstack server list",
        Some("undercloud-0"),
        Some("stack"),
        "openstack server list",
    );
    ok("multipathd> show paths", None, None, "show paths");
    ok("root@node12:~# ", Some("node12"), Some("root"), "");
    ok("root@node12:~#", Some("node12"), Some("root"), "");
    ok("# multipath -ll", None, None, "multipath -ll");
    ok("$ ps auxww", None, None, "ps auxww");
    ok("# /usr/sbin/multipath -ll", None, None, "/usr/sbin/multipath -ll");
    let p = prompt(b"[09:14:07] root@node12:~# date", false).unwrap();
    assert_eq!(p.clock, Some(33_247 * NANOS));
    for no in [
        "# This file is the multipath configuration",
        "#defaults {",
        "# blacklist {",
        "#!/bin/bash",
        "$HOME is unset",
        "Oct 13 19:51:02 node12 sudo:      ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/usr/sbin/multipath -ll",
        "root@10.0.0.1: Permission denied (publickey).",
        "mpathc (36001405c8e2a4f6b8d0e2f4a6b8c0d2e) dm-3 LIO-ORG,TCMU device",
        "user@example.com wrote:",
        "node12:~$ ls",
        "[  57.022491] task:jbd2/dm-0-8     state:D stack:0",
        "",
    ] {
        assert_eq!(prompt(no.as_bytes(), false), None, "{no}");
    }
    // A session that already used bare prompts takes any command after one.
    assert!(prompt(b"# rescan-scsi-bus.sh -r", false).is_some());
    assert!(prompt(b"# mycheck --all", false).is_none());
    assert!(prompt(b"# mycheck --all", true).is_some());
}

#[test]
fn clean_applies_escapes_rewrites_and_backspaces() {
    let c = |b: &[u8]| String::from_utf8_lossy(&clean(b)).into_owned();
    assert_eq!(
        c(b"\x1b[1mmpathc (36001405c8e2a4f6b8d0e2f4a6b8c0d2e) dm-3 LIO-ORG,TCMU device\x1b[0m"),
        "mpathc (36001405c8e2a4f6b8d0e2f4a6b8c0d2e) dm-3 LIO-ORG,TCMU device"
    );
    assert_eq!(
        c(b"\x1b]0;ops@node12: ~\x07\x1b[01;32mops@node12\x1b[00m:\x1b[01;34m~\x1b[00m$ date"),
        "ops@node12:~$ date"
    );
    assert_eq!(c(b"\x1b[?2004hops@node12:~$ lsblk\x1b[?2004l"), "ops@node12:~$ lsblk");
    assert_eq!(c(b"ops@node12:~$ mulx\x08 \x08tipath -ll"), "ops@node12:~$ multipath -ll");
    assert_eq!(c(b"50%\r100%"), "100%");
    assert_eq!(c(b"abc\rX"), "Xbc");
    assert_eq!(c(b"done\r"), "done");
    assert_eq!(c(b"\x1b(0\x0ftq\x1b(B"), "tq");
    assert!(matches!(clean(b"plain line"), Cow::Borrowed(_)));
}

const SESSION: &str = "Script started on 2025-03-11 09:13:55+09:00 [TERM=\"xterm-256color\" TTY=\"/dev/pts/0\" COLUMNS=\"120\" LINES=\"40\"]\r
\x1b]0;ops@node12: ~\x07\x1b[01;32mops@node12\x1b[00m:\x1b[01;34m~\x1b[00m$ date\r
Tue Mar 11 09:14:07 KST 2025\r
ops@node12:~$ sudo multipath -ll\r
[sudo] password for ops: \r
\x1b[1mmpathc (36001405c8e2a4f6b8d0e2f4a6b8c0d2e) dm-3 LIO-ORG,TCMU device\x1b[0m\r
size=2.0G features='1 queue_if_no_path' hwhandler='1 alua' wp=rw\r
`-+- policy='service-time 0' prio=0 status=enabled\r
  |- 5:0:0:1 sde 8:64 failed faulty running\r
  `- 6:0:0:1 sdf 8:80 failed faulty running\r
ops@node12:~$ sudo virsh list\r
^C\r
ops@node12:~$ sudo multipath -f mpathc\r
4163.511245 | mpathc: map in use\r
ops@node12:~$ sudo ps auxww | grep [q]emu\r
libvirt+    4242 12.1  1.3 8123456 432100 ?     Dl   Mar10 190:33 /usr/bin/qemu-system-x86_64 -name guest=instance-00000b12 -blockdev {\"driver\":\"host_device\",\"filename\":\"/dev/disk/by-id/dm-uuid-mpath-36001405c8e2a4f6b8d0e2f4a6b8c0d2e\"}\r
ops@node12:~$ sudo dmesg | tail -2\r
[ 4160.120013] sd 5:0:0:1: rejecting I/O to offline device\r
[ 4162.000001] INFO: task qemu-system-x86:4242 blocked for more than 120 seconds.\r
ops@node12:~$ uptime\r
 09:20:01 up  1:09,  2 users,  load average: 12.00, 11.50, 10.20\r
ops@node12:~$ sudo iscsiadm -m session\r
ops@node12:~$ exit\r
Script done on 2025-03-11 09:21:00+09:00 [COMMAND_EXIT_CODE=\"0\"]\r
";

#[test]
fn a_script_session_is_read_command_by_command() {
    let text = SESSION.replace('\r', "");
    let got = session(&text);
    assert!(!got.iter().any(|g| matches!(g, Got::Unparsed(..))), "{got:?}");
    // The script header dates what follows until the first date.
    let started = RawTime::Exact { unix_nanos: T - 12 * NANOS, offset_secs: 9 * 3600 };
    assert_eq!(time(rec(&got, 1)), started);
    assert_eq!(program(rec(&got, 1)), Some("script"));
    // The date's prompt and its output carry the date.
    let p = rec(&got, 2);
    assert_eq!((program(p), host(p), time(p)), (Some("shell"), Some("node12"), KST));
    assert_eq!((field(p, "command"), field(p, "user"), field(p, "cwd")), (Some("date"), Some("ops"), Some("~")));
    assert_eq!((program(rec(&got, 3)), time(rec(&got, 3))), (Some("date"), KST));
    // multipath -ll: the sudo password line belongs to the prompt; the map record has its paths.
    assert!(got.iter().any(|g| *g == Got::Attach(5, "[sudo] password for ops: ".into())));
    let m = rec(&got, 6);
    assert_eq!((program(m), host(m), time(m)), (Some("multipath -ll"), Some("node12"), KST));
    assert_eq!((field(m, "map"), field(m, "dm"), field(m, "active_paths")), (Some("mpathc"), Some("dm-3"), Some("0")));
    let Got::Rec { fields, .. } = m else { panic!() };
    let disks: Vec<&str> = fields.iter().filter(|(k, _)| k == "disk").map(|(_, v)| v.as_str()).collect();
    assert_eq!(disks, ["sde", "sdf"]);
    // A hung virsh list, interrupted before it printed anything.
    let i = rec(&got, 12);
    assert_eq!(
        (field(i, "interrupted"), field(i, "no_output"), field(i, "command")),
        (Some("true"), Some("true"), Some("sudo virsh list"))
    );
    assert_eq!(program(i), Some("virsh list"));
    assert_eq!(field(rec(&got, 11), "no_output"), None);
    // multipath's own stamp: seconds since boot, with the session's boot id.
    let f = rec(&got, 14);
    assert_eq!(time(f), RawTime::Boot { nanos: 4_163_511_245_000 });
    assert_eq!(field(f, "map"), Some("mpathc"));
    let Got::Rec { boot_id, .. } = f else { panic!() };
    assert_eq!(boot_id.as_deref(), Some("terminal:node12:0"));
    // ps through grep: no header, columns from `auxww`.
    let ps = rec(&got, 16);
    assert_eq!((field(ps, "pid"), field(ps, "stat"), field(ps, "user")), (Some("4242"), Some("Dl"), Some("libvirt+")));
    assert!(field(ps, "command").is_some_and(|c| c.contains("dm-uuid-mpath-36001405c8e2a4f6b8d0e2f4a6b8c0d2e")));
    // dmesg | tail: kernel lines in seconds since boot, on the prompt's host.
    let k = rec(&got, 19);
    assert_eq!(
        (program(k), time(k), host(k)),
        (Some("kernel"), RawTime::Boot { nanos: 4_162_000_001_000 }, Some("node12"))
    );
    // uptime's clock moves the time on the day of the date.
    let u = rec(&got, 21);
    let later = RawTime::Exact { unix_nanos: T + 354 * NANOS, offset_secs: 9 * 3600 };
    assert_eq!((time(u), field(u, "uptime_secs")), (later, Some("4140")));
    // iscsiadm printed nothing before the next prompt.
    assert_eq!(field(rec(&got, 22), "no_output"), Some("true"));
    assert_eq!(field(rec(&got, 23), "no_output"), None, "exit prints nothing");
    assert_eq!(field(rec(&got, 24), "session"), Some("done"));
    // The same bytes with the script's \r\n endings (the line reader removes the final \r).
    let crlf: Vec<Got> = session(&SESSION.replace("\r\n", "\n"));
    assert_eq!(recs(&crlf).len(), recs(&got).len());
}

#[test]
fn dates_in_other_forms_and_zones() {
    // ko_KR date, a CST date (ambiguous: the bundle's zone decides), date -u.
    let got = session("[root@node12 ~]# date\n2025. 03. 11. (화) 09:14:07 KST\n[root@node12 ~]# lsblk -J\n{\n   \"blockdevices\": [\n      {\"name\": \"sde\", \"maj:min\": \"8:64\", \"type\": \"disk\"}\n   ]\n}\n[root@node12 ~]# date\nTue Mar 11 09:15:00 CST 2025\n[root@node12 ~]# date -u\nTue Mar 11 00:16:00 UTC 2025\n");
    assert_eq!(time(rec(&got, 2)), KST);
    let l = rec(&got, 6);
    assert_eq!((field(l, "disk"), field(l, "devt"), time(l)), (Some("sde"), Some("8:64"), KST));
    let cst = rec(&got, 10);
    assert!(matches!(time(cst), RawTime::Naive { .. }));
    assert_eq!(time(rec(&got, 12)), RawTime::Exact { unix_nanos: T + 113 * NANOS, offset_secs: 0 });
    // `date; cmd` on one line, a watch title, a clock in the prompt.
    let got = session("ops@node12:~$ date; sudo dmsetup ls\nTue Mar 11 09:14:07 KST 2025\nmpathc\t(253:3)\nops@node12:~$ watch -n 5 'sudo multipath -ll mpathc'\nEvery 5.0s: sudo multipath -ll mpathc                     node12: Tue Mar 11 09:17:00 2025\n\nmpathc (36001405c8e2a4f6b8d0e2f4a6b8c0d2e) dm-3 LIO-ORG,TCMU device\n");
    assert_eq!((program(rec(&got, 2)), time(rec(&got, 2))), (Some("date"), KST));
    let ls = rec(&got, 3);
    assert_eq!((field(ls, "map"), field(ls, "devt"), time(ls)), (Some("mpathc"), Some("253:3"), KST));
    // watch's title has no zone: the session's (KST, from the date) applies.
    let title = RawTime::Exact { unix_nanos: T + 173 * NANOS, offset_secs: 9 * 3600 };
    assert_eq!((program(rec(&got, 5)), time(rec(&got, 5))), (Some("watch"), title));
    assert_eq!(time(rec(&got, 7)), title);
    assert_eq!(field(rec(&got, 7), "map"), Some("mpathc"));
    let got = session("root@node12:~# date\nTue Mar 11 09:14:07 KST 2025\n[09:30:00] root@node12:~# virsh list\n Id   Name                State\n------------------------------------\n 3    instance-00000b12   paused\n");
    assert_eq!(time(rec(&got, 6)), RawTime::Exact { unix_nanos: T + 953 * NANOS, offset_secs: 9 * 3600 });
    assert_eq!(field(rec(&got, 6), "domain"), Some("instance-00000b12"));
    // Before any date: the capture's time.
    let got = session("ops@node12:~$ sudo dmsetup ls\nmpathc\t(253:3)\n");
    assert_eq!(time(rec(&got, 2)), RawTime::Snapshot);
}

#[test]
fn comments_configs_and_bare_prompts() {
    let got = session("# cat /etc/multipath.conf\n# device-mapper-multipath configuration\ndefaults {\n    user_friendly_names yes\n}\n# blacklist { devnode \"^sda\" }\n# multipath -ll\nmpathc (36001405c8e2a4f6b8d0e2f4a6b8c0d2e) dm-3 LIO-ORG,TCMU device\n");
    let shells: Vec<u64> = got
        .iter()
        .filter_map(|g| match g {
            Got::Rec { line, program: Some(p), .. } if p == "shell" => Some(*line),
            _ => None,
        })
        .collect();
    assert_eq!(shells, [1, 7]);
    assert_eq!(field(rec(&got, 8), "map"), Some("mpathc"));
    assert!(!got.iter().any(|g| matches!(g, Got::Unparsed(..))));
}

#[test]
fn continued_cancelled_and_hung_commands() {
    let got = session("ops@node12:~$ sudo iscsiadm -m session \\\n>   -P 3\nTarget: iqn.2010-10.org.openstack:volume-7c1d (non-flash)\n\tCurrent Portal: 10.20.30.41:3260,1\nops@node12:~$ sudo multipath -ll^C\nops@node12:~$ sudo multipath -ll mpathc\nmpathc (36001405c8e2a4f6b8d0e2f4a6b8c0d2e) dm-3 LIO-ORG,TCMU device^C\nops@node12:~$ sudo multipath -ll\n");
    let p = rec(&got, 1);
    assert_eq!(field(p, "command"), Some("sudo iscsiadm -m session -P 3"));
    assert!(got.iter().any(|g| *g == Got::Attach(2, ">   -P 3".into())));
    assert_eq!(field(rec(&got, 3), "target"), Some("iqn.2010-10.org.openstack:volume-7c1d"));
    assert_eq!(field(rec(&got, 3), "portal"), Some("10.20.30.41:3260"));
    let c = rec(&got, 5);
    assert_eq!((field(c, "cancelled"), field(c, "command")), (Some("true"), Some("sudo multipath -ll")));
    let i = rec(&got, 7);
    assert_eq!((field(i, "interrupted"), field(i, "no_output")), (Some("true"), Some("true")));
    // The capture ends while multipath -ll has printed nothing: it hung.
    assert_eq!(field(rec(&got, 8), "no_output"), Some("true"));
}

#[test]
fn outputs_in_log_formats_and_other_hosts() {
    let got = session("ops@node12:~$ date\nTue Mar 11 09:14:07 KST 2025\nops@node12:~$ kubectl describe pod libvirt-libvirt-default-4x9kq -n openstack\nName:             libvirt-libvirt-default-4x9kq\nNamespace:        openstack\nEvents:\n  Type     Reason     Age                From     Message\n  ----     ------     ----               ----     -------\n  Warning  Unhealthy  28m (x9 over 40m)  kubelet  Liveness probe failed: command \"/tmp/libvirt-liveness.sh\" timed out\nops@jump:~$ ssh node12 sudo journalctl -u multipathd --no-pager -n 2\nMar 11 08:45:02 node12 multipathd[1432]: mpathc: remaining active paths: 0\nMar 11 08:45:02 node12 multipathd[1432]: sdf: mark as failed\n");
    let e = rec(&got, 9);
    assert_eq!((field(e, "reason"), field(e, "pod")), (Some("Unhealthy"), Some("libvirt-libvirt-default-4x9kq")));
    assert_eq!(time(e), RawTime::Approx { unix_nanos: T - 28 * 60 * NANOS });
    assert_eq!(host(rec(&got, 10)), Some("jump"));
    let j = rec(&got, 11);
    assert_eq!((program(j), host(j)), (Some("multipathd"), Some("node12")));
    assert!(matches!(time(j), RawTime::YearLess { month: 3, day: 11, .. }));
}

#[test]
fn local_times_of_outputs_take_the_sessions_zone() {
    // dmesg -T prints the local time `date` showed the zone of; `date -u` says nothing about it.
    let got = session("ops@node12:~$ date -u\nTue Mar 11 00:14:07 UTC 2025\nops@node12:~$ sudo dmesg -T | tail -1\n[Tue Mar 11 08:44:51 2025] session5: session recovery timed out after 120 secs\nops@node12:~$ date\nTue Mar 11 09:14:07 KST 2025\nops@node12:~$ sudo dmesg -T | tail -1\n[Tue Mar 11 08:44:51 2025] session5: session recovery timed out after 120 secs\n");
    assert!(matches!(time(rec(&got, 4)), RawTime::Naive { .. }));
    assert_eq!(time(rec(&got, 8)), RawTime::Exact { unix_nanos: T - 1756 * NANOS, offset_secs: 9 * 3600 });
}

#[test]
fn kubectl_logs_with_timestamps_keep_the_inner_format() {
    let got = session("ops@node12:~$ kubectl -n openstack logs nova-compute-default-9kq2w --timestamps | tail -2\n2025-03-11T00:45:12.345678901Z 2025-03-11 00:45:12.345 14 ERROR nova.compute.manager [req-0d1c2b3a-4f5e-4d6c-8b7a-9f0e1d2c3b4a - - - - - -] Failed to detach volume\n2025-03-11T00:45:13.000000001Z 2025-03-11 00:45:13.000 14 INFO nova.compute.manager [-] Periodic task\n");
    let e = rec(&got, 2);
    assert_eq!(time(e), RawTime::Exact { unix_nanos: 1_741_653_912_345_678_901, offset_secs: 0 });
    assert_eq!(program(e), Some("nova.compute.manager"));
    assert_eq!(field(e, "request_id"), Some("req-0d1c2b3a-4f5e-4d6c-8b7a-9f0e1d2c3b4a"));
    assert_eq!(host(e), Some("node12"));
}

#[test]
fn reboots_start_a_new_boot() {
    let got = session("root@node12:~# dmesg | tail -1\n[ 4162.000001] INFO: task qemu-system-x86:4242 blocked for more than 120 seconds.\nroot@node12:~# reboot\nroot@node12:~# dmesg | tail -1\n[   12.000001] sd 5:0:0:1: [sde] Attached SCSI disk\n");
    let id = |l| {
        let Got::Rec { boot_id, .. } = rec(&got, l) else { panic!() };
        boot_id.clone()
    };
    assert_eq!(id(2).as_deref(), Some("terminal:node12:0"));
    assert_eq!(id(5).as_deref(), Some("terminal:node12:1"));
}

#[test]
fn detection() {
    let lines = |t: &str| t.lines().map(|l| l.as_bytes().to_vec()).collect::<Vec<_>>();
    fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
        v.iter().map(|l| l.as_slice()).collect()
    }
    let sample = lines(&SESSION.replace('\r', ""));
    assert!(is_session(&refs(&sample)));
    assert!(is_session(&refs(&lines(
        "mpathc (36001405c8e2a4f6b8d0e2f4a6b8c0d2e) dm-3 LIO-ORG,TCMU device\n[root@node12 ~]# dmsetup ls\n"
    ))));
    assert!(is_session(&refs(&lines("# multipath -ll\nmpathc (36) dm-3 A,B\n# dmsetup ls\nmpathc\t(253:3)\n"))));
    for not in [
        "#!/bin/bash\n# check the maps\nmultipath -ll\n",
        "Oct 13 19:51:02 node12 sudo:      ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/usr/sbin/multipath -ll\n",
        "defaults {\n    user_friendly_names yes\n}\n# multipath -ll shows the maps\n",
        "=== 2026-11-28 22:38:45 [22.64] # multipath -ll\nmpatha (333) dm-0 A,B\n",
    ] {
        assert!(!is_session(&refs(&lines(not))), "{not}");
    }
    assert_eq!(path_hint("captures/typescript"), 0.2);
    assert_eq!(crate::formats::detect("x/node12.log", &refs(&sample)), rootline_event::Format::Terminal);
}
