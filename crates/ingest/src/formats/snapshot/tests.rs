//! Unit tests of the snapshot readers: each command in the layouts the tools print.

use super::*;
use crate::formats::testing::{records, run, Got};

fn file(path: &str) -> Box<dyn Parser> {
    parser(&SourceCtx { path: path.into(), ..SourceCtx::default() })
}

fn field<'a>(g: &'a Got, k: &str) -> Option<&'a str> {
    let Got::Rec { fields, .. } = g else { return None };
    fields.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str())
}

fn recs(got: &[Got]) -> Vec<&Got> {
    got.iter().filter(|g| matches!(g, Got::Rec { .. })).collect()
}

#[test]
fn multipath_ll_from_the_lab() {
    let got = run(
        file("multipath-ll.txt"),
        "mpatha (333333330000007d0) dm-0 LABSAN,VDISK-MP\n\
         size=64M features='1 queue_if_no_path' hwhandler='1 alua' wp=rw\n\
         |-+- policy='service-time 0' prio=0 status=enabled\n\
         | `- 0:0:0:0 sda 8:0  failed faulty offline\n\
         `-+- policy='service-time 0' prio=0 status=enabled\n  `- 1:0:0:0 sdb 8:16 failed faulty offline\n\
         3600a0980383056 dm-21 NETAPP,LUN C-Mode\n",
    );
    let r = recs(&got);
    assert_eq!(r.len(), 2, "{got:?}");
    assert_eq!(field(r[0], "map"), Some("mpatha"));
    assert_eq!(field(r[0], "wwid"), Some("333333330000007d0"));
    assert_eq!(field(r[0], "dm"), Some("dm-0"));
    assert!(matches!(r[0], Got::Rec { time: RawTime::Snapshot, .. }));
    assert_eq!(got.iter().filter(|g| matches!(g, Got::Attach(..))).count(), 5);
    assert_eq!(field(r[1], "dm"), Some("dm-21"));
    assert_eq!(records(&got)[0].1.as_deref(), Some("multipath -ll"));
}

#[test]
fn multipathd_tables_and_dmsetup() {
    let got = run(
        file("x"),
        "hcil    dev dev_t pri dm_st  chk_st dev_st  next_check    \n\
         0:0:0:0 sda 8:0   50  failed faulty offline XX........ 1/4\n",
    );
    assert_eq!(got[0], Got::Skip(1));
    assert_eq!(field(&got[1], "disk"), Some("sda"));
    assert_eq!(field(&got[1], "devt"), Some("8:0"));
    assert_eq!(field(&got[1], "chk_state"), Some("faulty"));
    let got = run(
        file("x"),
        "name   failback queueing paths dm-st  write_prot\nmpatha -        on       0     active rw        \n",
    );
    assert_eq!(field(&got[1], "map"), Some("mpatha"));
    assert_eq!(field(&got[1], "paths"), Some("0"));
    let got = run(file("x"), "mpatha\t(254:0)\nmpathb\t(253:21)\n");
    assert_eq!(field(&got[1], "devt"), Some("253:21"));
    let got = run(file("x"), "mpatha: 0 131072 multipath 2 0 1 0 2 1 E 0 1 2 8:0 F 1 0 1 E 0 1 2 8:16 F 1 0 1 \n");
    assert_eq!(field(&got[0], "map"), Some("mpatha"));
    let got = run(
        file("x"),
        "Name:              mpatha\nState:             ACTIVE\nOpen count:        2\n\nName:              mpathb\nState:             SUSPENDED\n",
    );
    let r = recs(&got);
    assert_eq!(r.len(), 2);
    assert_eq!(field(r[1], "map"), Some("mpathb"));
    let got = run(
        file("sos_commands/devicemapper/dmsetup_info_-c"),
        "Name             Maj Min Stat Open Targ Event  UUID\nmpathb           253  21 L--w    1    1      0 mpath-3600a09803830\n",
    );
    assert_eq!(field(&got[1], "major"), Some("253"));
    assert_eq!(field(&got[1], "uuid"), Some("mpath-3600a09803830"));
    assert_eq!(records(&got)[0].1.as_deref(), Some("dmsetup info -c"));
}

#[test]
fn ps_and_proc_stat() {
    let got = run(
        file("x"),
        "PID   PPID  STAT COMMAND          COMMAND\n  416     1 D    dd               {dd} sh -c sleep 1 & exec dd\n  420   416 Z    sleep            [sleep]\n",
    );
    assert_eq!(field(&got[1], "pid"), Some("416"));
    assert_eq!(field(&got[1], "stat"), Some("D"));
    assert_eq!(field(&got[1], "comm"), Some("dd"));
    assert_eq!(field(&got[1], "command"), Some("{dd} sh -c sleep 1 & exec dd"));
    assert_eq!(field(&got[2], "ppid"), Some("416"));
    let got = run(
        file("sos_commands/process/ps_auxwwwm"),
        "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n\
         root        4242  0.0  0.1 123456  7890 ?        D    19:40   0:01 /usr/libexec/qemu-kvm -name guest=instance-0000001a\n",
    );
    assert_eq!(field(&got[1], "user"), Some("root"));
    assert_eq!(field(&got[1], "command"), Some("/usr/libexec/qemu-kvm -name guest=instance-0000001a"));
    assert_eq!(records(&got)[0].1.as_deref(), Some("ps"));
    let got = run(file("x"), "4242 (qemu (kvm) x) D 1 4242 4242 0 -1 4194560\n");
    assert_eq!(field(&got[0], "comm"), Some("qemu (kvm) x"));
    assert_eq!(field(&got[0], "stat"), Some("D"));
    assert_eq!(field(&got[0], "ppid"), Some("1"));
}

#[test]
fn virsh_iscsi_ceph_rbd_pods_lsblk() {
    let got = run(
        file("x"),
        " Id   Name                State\n------------------------------------\n 1    instance-0000001a   running\n -    instance-0000001b   shut off\n",
    );
    let r = recs(&got);
    assert_eq!(field(r[1], "state"), Some("shut off"));
    assert_eq!(field(r[0], "domain"), Some("instance-0000001a"));
    let got = run(file("x"), "tcp: [3] 10.0.0.5:3260,1 iqn.2010-10.org.openstack:volume-4f2f (non-flash)\n");
    assert_eq!(field(&got[0], "target"), Some("iqn.2010-10.org.openstack:volume-4f2f"));
    let got = run(
        file("x"),
        "  cluster:\n    id:     3f1c\n    health: HEALTH_WARN\n            1 slow ops, oldest one blocked for 120 sec, osd.3 has slow ops\n\n  services:\n    mon: 3 daemons\n",
    );
    let r = recs(&got);
    assert_eq!(r.len(), 3);
    assert_eq!(field(r[1], "key"), Some("health"));
    assert!(got.iter().any(|g| matches!(g, Got::Attach(4, _))));
    let got = run(
        file("x"),
        "HEALTH_WARN 1 slow ops\n[WRN] SLOW_OPS: 1 slow ops, oldest one blocked for 120 sec\n    osd.3 has slow ops\n",
    );
    assert_eq!(field(&got[0], "health"), Some("HEALTH_WARN"));
    assert_eq!(field(&got[1], "check"), Some("SLOW_OPS"));
    assert_eq!(got[2], Got::Attach(3, "    osd.3 has slow ops".into()));
    let got = run(file("x"), "Watchers:\n\twatcher=10.0.0.37:0/1234 client.4567 cookie=1\n");
    assert_eq!(field(&got[1], "client"), Some("client.4567"));
    let got = run(
        file("x"),
        "NAMESPACE   NAME                            READY   STATUS    RESTARTS      AGE\n\
         openstack   libvirt-libvirt-default-x7k2p   0/1     Running   3 (5m ago)    2d\n",
    );
    assert_eq!(field(&got[1], "pod"), Some("libvirt-libvirt-default-x7k2p"));
    assert_eq!(field(&got[1], "ready"), Some("0/1"));
    assert_eq!(field(&got[1], "restarts"), Some("3"));
    let got = run(
        file("x"),
        "NAME        MAJ:MIN RM  SIZE RO TYPE  MOUNTPOINTS\nsds          65:32   0  100G  0 disk  \n└─mpathb    253:21  0  100G  0 mpath \n",
    );
    assert_eq!(field(&got[2], "map"), Some("mpathb"));
    assert_eq!(field(&got[2], "parent"), Some("sds"));
    assert_eq!(field(&got[2], "devt"), Some("253:21"));
}

#[test]
fn for_command_stamps_and_keeps_everything() {
    let t = RawTime::Naive { civil_nanos: 5 };
    // multipath's own stamp is seconds since boot (CLOCK_MONOTONIC), not the section's time.
    let got = run(for_command("sudo multipath -f mpatha", t), "91.641391 | mpatha: map in use\n");
    assert_eq!(
        records(&got),
        vec![(
            RawTime::Boot { nanos: 91_641_391_000 },
            Some("multipath -f mpatha".into()),
            "91.641391 | mpatha: map in use".into()
        )]
    );
    assert_eq!(field(&got[0], "map"), Some("mpatha"));
    let got = run(for_command("cat /proc/192/stack", t), "[<0>] a+0x1/0x2\n[<0>] b+0x1/0x2\n");
    assert_eq!(recs(&got).len(), 1);
    let got = run(for_command("dmsetup status", t), "mpatha: 0 131072 multipath 2 0\n");
    assert_eq!(records(&got)[0].1.as_deref(), Some("dmsetup status"));
}

#[test]
fn paths_near_misses_and_garbage() {
    assert_eq!(path_hint("sosreport-x/sos_commands/multipath/multipath_-ll"), 0.5);
    assert_eq!(path_hint("bundle/commands/dmsetup_info_-c.txt"), 0.5);
    assert_eq!(path_hint("var/log/messages"), 0.0);
    assert!(detect(b"mpatha (333333330000007d0) dm-0 LABSAN,VDISK-MP"));
    assert!(detect(b"1 (init) S 0 0 0 0 -1 4194560"));
    assert!(!detect(b"Oct 13 19:51:02 host multipathd[1]: mpatha: dm-0 LABSAN,VDISK"));
    assert!(!detect(b"[12345.678901] sd 0:0:0:0: [sda] tag#0"));
    assert!(!detect(b"1 (init S 0"));
    assert!(!detect(b"hello world"));
    // Log lines are turned away by their first bytes; multipath's own local-time stamp is not a log.
    assert!(!detect(b"2025-10-13T10:56:00.123456789Z stderr F mpatha (3600) dm-0 A,B"));
    assert!(!detect(b"I1013 19:56:01.123456 1234 prober.go:104] dm-0 LABSAN,VDISK"));
    assert!(!detect(b"{\"MESSAGE\": \"tcp: [3] 10.0.0.5:3260,1 iqn.x (non-flash)\"}"));
    assert!(log_line(b"Oct 13 19:51:02 host multipathd[1]: mpatha: remaining active paths: 0"));
    assert!(!log_line(b"Mar 11 09:14:07 | mpatha: map in use"));
    assert!(!log_line(b"NAME   MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS"));
    assert!(detect(b"[3:0:0:1]    disk    LIO-ORG  TCMU device      4.0   /dev/sdc"));
    assert!(detect(b"[<0>] io_schedule+0x46/0x70"));
    let got = run(file("x"), "hello world\n\x00\u{ff})(\n");
    assert_eq!(got[0], Got::Unparsed(1, "hello world".into()));
    assert!(matches!(got[1], Got::Unparsed(2, _)));
}
