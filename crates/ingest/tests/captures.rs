//! Captures as operators make them, read end to end: command outputs in sosreport and bundle paths,
//! terminal sessions, and the same files packed as a sosreport archive with `./` member names. Each
//! check names the fields the correlator ties on (docs/formats.md lists them per command).

use std::io::Write;
use std::path::PathBuf;

use rootline_event::{Event, TimeKind};
use rootline_ingest::{read, Options};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats").join(rel)
}

/// The events of one fixture, read with its directory tree (so `sos_commands/...` and `commands/...`
/// paths name their commands as they do in a bundle).
fn events(rel: &str) -> Vec<Event> {
    let (top, _) = rel.split_once('/').expect("formats/<dir>/...");
    read(&[data(top)], &Options::default())
        .into_events()
        .filter(|e| e.provenance.path.ends_with(&format!("/{rel}")))
        .collect()
}

/// The event of `evs` whose message contains `needle`.
fn ev<'a>(evs: &'a [Event], needle: &str) -> &'a Event {
    evs.iter().find(|e| e.message_str().contains(needle)).unwrap_or_else(|| panic!("no event with {needle}"))
}

fn all<'a>(e: &'a Event, k: &str) -> Vec<&'a str> {
    e.fields.iter().filter(|(x, _)| &**x == k).map(|(_, v)| &**v).collect()
}

/// Asserts each (field, value) of `want` on `e`.
fn has(e: &Event, want: &[(&str, &str)]) {
    for (k, v) in want {
        assert_eq!(e.field(k), Some(*v), "{k} of {:?}: {:?}", e.message_str(), e.fields);
    }
}

const WA: &str = "36001405c8e2a4f6b8d0e2f4a6b8c0d2e";
const IQN_A: &str = "iqn.2010-10.org.openstack:volume-7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

#[test]
fn iscsiadm_sessions_and_luns() {
    let evs = events("snapshot/sos_commands/iscsi/iscsiadm_-m_session_-P_3");
    assert_eq!(evs.len(), 8, "a record per session and per LUN");
    let s = evs.iter().find(|e| e.field("sid") == Some("5") && e.field("state").is_some()).expect("session 5");
    has(s, &[("target", IQN_A), ("portal", "10.20.30.42:3260"), ("iface", "default"), ("state", "FAILED")]);
    has(
        s,
        &[("conn_state", "TRANSPORT WAIT"), ("iscsid_state", "REOPEN"), ("scsi_host", "5"), ("recovery_tmo", "120")],
    );
    let l = evs.iter().find(|e| e.field("hctl") == Some("5:0:0:1")).expect("LUN of session 5");
    has(l, &[("disk", "sde"), ("dev_state", "transport-offline"), ("sid", "5"), ("target", IQN_A), ("scsi_host", "5")]);
    let flat = events("snapshot/iscsiadm-m-session.txt");
    has(ev(&flat, "[6]"), &[("sid", "6"), ("portal", "10.20.31.42:3260"), ("target", IQN_A), ("transport", "tcp")]);
}

#[test]
fn device_mapper_outputs() {
    let tree = events("snapshot/sos_commands/devicemapper/dmsetup_ls_--tree");
    has(ev(&tree, "mpathc (253:3)"), &[("map", "mpathc"), ("devt", "253:3"), ("deps", "8:80 8:64")]);
    let table = events("snapshot/sos_commands/devicemapper/dmsetup_table");
    has(ev(&table, "mpathc:"), &[("map", "mpathc"), ("target_type", "multipath"), ("deps", "8:64 8:80")]);
    let status = events("snapshot/sos_commands/devicemapper/dmsetup_status");
    assert!(status.iter().any(|e| e.field("active_paths").is_some()));
    let info = events("snapshot/dmsetup-info.txt");
    has(
        ev(&info, "mpathc"),
        &[("map", "mpathc"), ("devt", "253:3"), ("wwid", WA), ("dm_state", "ACTIVE"), ("open", "1")],
    );
    let deps = events("snapshot/dmsetup-deps.txt");
    has(ev(&deps, "mpathc:"), &[("map", "mpathc"), ("deps", "8:80 8:64")]);
    let paths = events("snapshot/multipathd-show-paths.txt");
    has(
        ev(&paths, "sdf"),
        &[("hctl", "6:0:0:1"), ("devt", "8:80"), ("dm_state", "failed"), ("chk_state", "i/o pending")],
    );
    let maps = events("snapshot/multipathd-show-maps-format.txt");
    has(
        ev(&maps, "mpathc"),
        &[("map", "mpathc"), ("wwid", WA), ("dm", "dm-3"), ("paths", "2"), ("dm_state", "active")],
    );
}

#[test]
fn block_devices_links_and_mounts() {
    let lsblk = events("snapshot/sos_commands/block/lsblk");
    let m: Vec<&Event> = lsblk.iter().filter(|e| e.field("map") == Some("mpathc")).collect();
    assert_eq!(m.iter().map(|e| e.field("parent").unwrap()).collect::<Vec<_>>(), ["sde", "sdf"]);
    has(m[0], &[("devt", "253:3"), ("type", "mpath")]);
    has(ev(&lsblk, "ubuntu--vg-ubuntu--lv"), &[("map", "ubuntu--vg-ubuntu--lv"), ("parent", "sda3"), ("mount", "/")]);
    let pairs = events("snapshot/sos_commands/block/lsblk_-O_-P");
    has(
        ev(&pairs, "NAME=\"sde\""),
        &[("disk", "sde"), ("hctl", "5:0:0:1"), ("transport", "iscsi"), ("dev_state", "transport-offline")],
    );
    has(ev(&pairs, "NAME=\"mpathc\""), &[("map", "mpathc"), ("dm", "dm-3"), ("parent", "sde"), ("devt", "253:3")]);
    let json = events("snapshot/commands/lsblk_-J.txt");
    let m: Vec<&Event> = json.iter().filter(|e| e.field("map") == Some("mpathc")).collect();
    assert_eq!(m.iter().map(|e| e.field("parent").unwrap()).collect::<Vec<_>>(), ["sde", "sdf"]);
    let lsscsi = events("snapshot/sos_commands/scsi/lsscsi");
    has(ev(&lsscsi, "[5:0:0:1]"), &[("hctl", "5:0:0:1"), ("scsi_host", "5"), ("disk", "sde"), ("wwid", WA)]);
    let t = events("snapshot/lsscsi-t.txt");
    has(ev(&t, "[5:0:0:1]"), &[("disk", "sde"), ("target", IQN_A)]);
    let ls = events("snapshot/sos_commands/block/ls_-lanR_.dev");
    let id = ev(&ls, &format!("dm-uuid-mpath-{WA}"));
    has(
        id,
        &[
            ("link", &format!("/dev/disk/by-id/dm-uuid-mpath-{WA}")),
            ("link_target", "/dev/dm-3"),
            ("dm", "dm-3"),
            ("wwid", WA),
        ],
    );
    has(
        ev(&ls, "ip-10.20.30.42:3260"),
        &[("portal", "10.20.30.42:3260"), ("target", IQN_A), ("lun", "1"), ("disk", "sde")],
    );
    has(ev(&ls, "mpathc -> ../dm-3"), &[("map", "mpathc"), ("dm", "dm-3"), ("link", "/dev/mapper/mpathc")]);
    for (file, needle) in [
        ("snapshot/sos_commands/filesys/mount_-l", "mpathb on"),
        ("snapshot/sos_commands/filesys/df_-al_-x_autofs", "/dev/mapper/mpathb"),
        ("snapshot/sos_commands/filesys/findmnt", "/dev/mapper/mpathb"),
        ("snapshot/proc-mounts.txt", "/dev/mapper/mpathb"),
    ] {
        let evs = events(file);
        has(ev(&evs, needle), &[("dev", "/dev/mapper/mpathb"), ("mount", "/var/lib/nova/mnt/f0e1d2c3")]);
    }
    let df = events("snapshot/df-h-wrapped.txt");
    has(
        ev(&df, "ubuntu--vg-ubuntu--lv"),
        &[("dev", "/dev/mapper/ubuntu--vg-ubuntu--lv"), ("mount", "/"), ("use", "19%")],
    );
}

#[test]
fn processes_in_every_layout() {
    let l = events("snapshot/sos_commands/process/ps_-elfL");
    let t = l.iter().find(|e| e.field("tid") == Some("4251")).expect("qemu's thread");
    has(t, &[("pid", "4242"), ("stat", "D"), ("wchan", "blk_mq"), ("nlwp", "3")]);
    assert!(t.field("command").unwrap().contains(&format!("dm-uuid-mpath-{WA}")));
    let z = l.iter().find(|e| e.field("tid") == Some("4199")).expect("libvirtd's thread");
    has(z, &[("pid", "4190"), ("ppid", "4150"), ("stat", "D"), ("command", "[libvirtd] <defunct>")]);
    let axo = events("snapshot/sos_commands/process/ps_axo_flags_state_uid_pid_ppid_pgid_sid_cls_pri_psr_addr_sz_wchan_20_lstart_tty_time_cmd");
    let q = axo.iter().find(|e| e.field("pid") == Some("4242")).unwrap();
    has(q, &[("stat", "D"), ("wchan", "io_schedule"), ("start", "Mon Mar 10 21:03:40 2025"), ("user", "64055")]);
    let top = events("snapshot/top-b-n1.txt");
    assert!(top.iter().all(|e| e.format == rootline_event::Format::Snapshot));
    has(top.iter().find(|e| e.field("pid") == Some("4242")).unwrap(), &[("stat", "D"), ("comm", "qemu-system-x86")]);
    let bb = events("snapshot/busybox-ps.txt");
    has(bb.iter().find(|e| e.field("pid") == Some("4242")).unwrap(), &[("user", "107")]);
    let stack = events("snapshot/proc-4242-stack.txt");
    assert_eq!(stack.len(), 1);
    assert!(stack[0].message_str().contains("entry_SYSCALL_64_after_hwframe"));
}

#[test]
fn workloads_and_containers() {
    let blk = events("snapshot/virsh-domblklist-details.txt");
    has(
        ev(&blk, "vda"),
        &[("blk_target", "vda"), ("blk_source", &format!("/dev/disk/by-id/dm-uuid-mpath-{WA}")), ("type", "block")],
    );
    let pods = events("snapshot/kubectl-get-pods-wide.txt");
    has(
        ev(&pods, "libvirt-libvirt"),
        &[
            ("pod", "libvirt-libvirt-default-4x9kq"),
            ("state", "CrashLoopBackOff"),
            ("restarts", "7"),
            ("node", "node12"),
        ],
    );
    let ps = events("snapshot/sos_commands/crio/crictl_ps_-a");
    has(
        ev(&ps, "libvirt-libvirt"),
        &[
            ("container_id", "5d6e7f8a9b0c1"),
            ("container", "libvirt"),
            ("state", "Exited"),
            ("restarts", "7"),
            ("namespace", "openstack"),
        ],
    );
    let insp = events("snapshot/sos_commands/crio/containers/crictl_inspect_5d6e7f8a9b0c1");
    assert_eq!(insp.len(), 1);
    has(
        &insp[0],
        &[
            ("container", "libvirt"),
            ("exit_code", "137"),
            ("reason", "Error"),
            ("state", "CONTAINER_EXITED"),
            ("pod", "libvirt-libvirt-default-4x9kq"),
        ],
    );
}

#[test]
fn a_script_capture_of_the_outage() {
    let evs = events("terminal/node12-typescript");
    assert!(evs.iter().all(|e| e.format == rootline_event::Format::Terminal));
    assert!(evs.iter().all(|e| e.host.as_deref() == Some("node12")), "every record on the prompt's host");
    // Dated by the session's own date (KST), not the file's time.
    let kst = |e: &Event| e.time.map(|t| t.unix_nanos / 1_000_000_000);
    let m = ev(&evs, "mpathc (");
    assert_eq!(kst(m), Some(1_741_652_049), "the clock of uptime right before");
    assert_eq!(all(m, "disk"), ["sde", "sdf"]);
    has(m, &[("wwid", WA), ("dm", "dm-3"), ("active_paths", "0")]);
    has(ev(&evs, "tcp: [5]"), &[("sid", "5"), ("target", IQN_A)]);
    // dmesg -T prints the local time: the session's zone.
    let conn = ev(&evs, "connection5:0: detected conn error (1020)");
    assert_eq!((conn.time_kind, kst(conn)), (TimeKind::Exact, Some(1_741_650_171)));
    // The hung virsh list, the qemu process, its stack, the links, multipath's own stamps.
    has(ev(&evs, "^C"), &[("interrupted", "true"), ("no_output", "true"), ("command", "sudo virsh list")]);
    has(ev(&evs, "guest=instance-00000b12"), &[("pid", "4242"), ("stat", "Dl")]);
    has(ev(&evs, "io_schedule+0x46/0x70"), &[("pid", "4242")]);
    has(ev(&evs, &format!("dm-uuid-mpath-{WA} ->")), &[("dm", "dm-3"), ("wwid", WA)]);
    let stamp = ev(&evs, "4163.511245 | mpathc: map in use");
    assert_eq!(stamp.field("map"), Some("mpathc"));
    assert!(matches!(stamp.time_kind, TimeKind::Relative | TimeKind::Anchored));
    has(ev(&evs, "CrashLoopBackOff"), &[("pod", "libvirt-libvirt-default-4x9kq"), ("restarts", "7")]);
    // A multipath -ll that printed nothing before the next prompt.
    has(ev(&evs, "sudo multipath -ll mpathc"), &[("no_output", "true")]);
}

#[test]
fn a_copy_paste_from_a_rhel_node() {
    let evs = events("terminal/node12-rhel-copy-paste.txt");
    assert!(evs.iter().all(|e| e.time_kind == TimeKind::Exact), "dated by the ko_KR date");
    has(
        ev(&evs, "sdf 6:0:0:1"),
        &[("disk", "sdf"), ("map", "mpathc"), ("dm_state", "failed"), ("chk_state", "faulty")],
    );
    has(ev(&evs, "mpathc (253:3)"), &[("deps", "8:80 8:64")]);
    let q = ev(&evs, "guest=instance-00000b12");
    has(q, &[("pid", "4242"), ("stat", "Dl"), ("wchan", "io_schedule"), ("start", "Mon Mar 10 21:03:40 2025")]);
    has(ev(&evs, "4190    4150 Zs"), &[("ppid", "4150"), ("stat", "Zs")]);
    has(ev(&evs, "5d6e7f8a9b0c1"), &[("container", "libvirt"), ("state", "Exited")]);
    has(ev(&evs, "timeout 10 virsh list --all"), &[("no_output", "true"), ("command", "timeout 10 virsh list --all")]);
}

/// Writes `files` (member name, content) into a `.tar.xz`.
fn tar_xz(path: &std::path::Path, files: &[(String, Vec<u8>)]) {
    let f = std::fs::File::create(path).unwrap();
    let xz = liblzma::write::XzEncoder::new(f, 1);
    let mut b = tar::Builder::new(xz);
    for (name, content) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_741_652_400);
        // `tar -C dir -cJf x.tar.xz .` writes `./` in front of every name.
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        b.append(&h, content.as_slice()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

#[test]
fn a_sosreport_archive_with_dot_slash_member_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = "./sosreport-node12-2025-03-11-qkzbtmj";
    let mut files = Vec::new();
    for (member, fixture) in [
        ("sos_commands/iscsi/iscsiadm_-m_session_-P_3", "snapshot/sos_commands/iscsi/iscsiadm_-m_session_-P_3"),
        ("sos_commands/devicemapper/dmsetup_table", "snapshot/sos_commands/devicemapper/dmsetup_table"),
        ("sos_commands/process/ps_-elfL", "snapshot/sos_commands/process/ps_-elfL"),
        ("sos_commands/block/lsblk", "snapshot/sos_commands/block/lsblk"),
        (
            "sos_commands/crio/containers/crictl_inspect_5d6e7f8a9b0c1",
            "snapshot/sos_commands/crio/containers/crictl_inspect_5d6e7f8a9b0c1",
        ),
        ("sos_commands/process/ps_auxwwwm", "snapshot/sos_commands/process/ps_auxwwwm"),
        ("ps", "snapshot/sos_commands/process/ps_auxwwwm"),
    ] {
        files.push((format!("{root}/{member}"), std::fs::read(data(fixture)).unwrap()));
    }
    let archive = dir.path().join("sosreport-node12.tar.xz");
    tar_xz(&archive, &files);
    let tl = read(&[archive], &Options::default());
    for s in &tl.stats.sources {
        assert_eq!((s.format.as_str(), s.unparsed_lines), ("snapshot", 0), "{}", s.path);
    }
    assert_eq!(tl.stats.sources.len(), files.len());
    let evs: Vec<Event> = tl.into_events().collect();
    let lun =
        evs.iter().find(|e| e.field("hctl") == Some("5:0:0:1") && e.field("sid").is_some()).expect("iscsiadm read");
    assert_eq!(lun.field("disk"), Some("sde"));
    assert_eq!(lun.program.as_deref(), Some("iscsiadm -m session"));
    let ps_top: Vec<&Event> =
        evs.iter().filter(|e| e.provenance.path.ends_with("qkzbtmj/ps") && e.field("pid").is_some()).collect();
    assert!(!ps_top.is_empty(), "the top-level ps symlink of a sosreport is ps output");
    assert!(evs.iter().any(|e| e.field("tid") == Some("4251")));
    assert!(evs.iter().any(|e| e.field("exit_code") == Some("137")));
}

#[test]
fn log_trees_keep_their_formats() {
    // kolla's /var/log/kolla/<service>/ and must-gather's per-pod logs: read by content.
    let dir = tempfile::tempdir().unwrap();
    let kolla = dir.path().join("var/log/kolla/nova");
    std::fs::create_dir_all(&kolla).unwrap();
    let mut f = std::fs::File::create(kolla.join("nova-compute.log")).unwrap();
    writeln!(f, "2025-03-11 08:45:12.345 7 ERROR nova.compute.manager [req-0d1c2b3a-4f5e-4d6c-8b7a-9f0e1d2c3b4a - - - - - -] [instance: 5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9] Failed to detach volume {IQN_A}").unwrap();
    let libvirt = dir.path().join("var/log/kolla/libvirt");
    std::fs::create_dir_all(&libvirt).unwrap();
    let mut f = std::fs::File::create(libvirt.join("libvirtd.log")).unwrap();
    writeln!(f, "2025-03-10 23:45:12.123+0000: 9120: error : virNetClientProgramDispatchError:174 : Timed out during operation: cannot acquire state change lock").unwrap();
    let tl = read(&[dir.path().to_path_buf()], &Options::default());
    let mut formats: Vec<(String, String)> =
        tl.stats.sources.iter().map(|s| (s.path.rsplit('/').next().unwrap().to_string(), s.format.clone())).collect();
    formats.sort();
    assert_eq!(
        formats,
        [("libvirtd.log".to_string(), "libvirt".to_string()), ("nova-compute.log".into(), "oslo".into())]
    );
}

mod properties {
    //! Arbitrary lines mixed with pieces of real outputs: no command reader panics, and every line
    //! is accounted for once (a record, a line attached to one, a format line, or unparsed).
    use proptest::prelude::*;
    use rootline_ingest::formats::{self, LinePos, Parser, Record, Sink, SourceCtx};

    #[derive(Default)]
    struct Count(u64);

    impl Sink for Count {
        fn record(&mut self, _: LinePos, _: Record<'_>) {
            self.0 += 1;
        }
        fn attach(&mut self, _: LinePos, _: &[u8]) {
            self.0 += 1;
        }
        fn skip(&mut self, _: LinePos) {
            self.0 += 1;
        }
        fn unparsed(&mut self, _: LinePos, _: &[u8]) {
            self.0 += 1;
        }
    }

    fn parsers() -> Vec<Box<dyn Parser>> {
        let at = |p: &str| SourceCtx { path: p.into(), ..SourceCtx::default() };
        let mut v: Vec<Box<dyn Parser>> = [
            "x",
            "s/sos_commands/iscsi/iscsiadm_-m_session_-P_3",
            "s/sos_commands/devicemapper/dmsetup_ls_--tree",
            "s/sos_commands/devicemapper/dmsetup_info",
            "s/sos_commands/devicemapper/dmsetup_status",
            "s/sos_commands/multipath/multipath_-ll",
            "s/sos_commands/process/ps_-elfL",
            "s/sos_commands/block/lsblk",
            "s/sos_commands/block/ls_-lanR_.dev",
            "s/sos_commands/crio/containers/crictl_inspect_5d6e",
            "b/commands/lsblk_-J.txt",
            "s/sos_commands/filesys/df_-al_-x_autofs",
            "s/sos_commands/kubernetes/kubectl_get_pods_-o_wide",
        ]
        .iter()
        .map(|p| formats::snapshot::parser(&at(p)))
        .collect();
        v.push(formats::terminal::parser(&at("typescript")));
        v.push(formats::k8s_events::parser(&at("describe.txt")));
        v
    }

    fn line() -> impl Strategy<Value = Vec<u8>> {
        let seeds = prop::sample::select(vec![
            &b""[..],
            b"mpathc (36001405c8e2a4f6b8d0e2f4a6b8c0d2e) dm-3 LIO-ORG,TCMU device",
            b"size=2.0G features='1 queue_if_no_path' hwhandler='1 alua' wp=rw",
            b"  |- 5:0:0:1 sde 8:64 failed ",
            b"4163.511245 | ",
            b"Target: iqn.",
            b"\tCurrent Portal: 10.20.30.42:3260,1",
            b"\t\tSID: ",
            b"\t\tscsi5 Channel 00 Id 0 Lun: ",
            b"\t\t\tAttached scsi disk sde\t\tState: ",
            b"mpathc (253:3)",
            " ├─ (".as_bytes(),
            b"Name:              mpathc",
            b"Major, minor:      253, ",
            b"F S UID PID PPID LWP C NLWP PRI NI ADDR SZ WCHAN STIME TTY TIME CMD",
            b"NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS",
            "└─mpathc 253:3 ".as_bytes(),
            b"{",
            b"}",
            b"  \"name\": \"",
            b"lrwxrwxrwx 1 0 0 10 Mar 11 08:44 dm-uuid-mpath-3600 -> ../../dm-",
            b"/dev/disk/by-id:",
            b"Filesystem Size Used Avail Use% Mounted on",
            b"NAMESPACE NAME READY STATUS RESTARTS AGE",
            b"ops@node12:~$ sudo ",
            b"# ",
            b"^C",
            b"Tue Mar 11 09:14:07 KST 2025",
            b"Containers:",
            b"  libvirt:",
            b"    State:          ",
            b"      Finished:     Mon, 10 Mar 2025 08:00:03 +0900",
        ]);
        (seeds, prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(s, tail)| {
            let mut l = s.to_vec();
            l.extend(tail.into_iter().filter(|c| *c != b'\n'));
            l
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn command_readers_account_for_every_line(lines in prop::collection::vec(line(), 0..40)) {
            for mut p in parsers() {
                let mut sink = Count::default();
                let mut off = 0u64;
                for (i, l) in lines.iter().enumerate() {
                    p.feed(LinePos { line: i as u64 + 1, offset: off }, l, &mut sink);
                    off += l.len() as u64 + 1;
                }
                p.finish(&mut sink);
                prop_assert_eq!(sink.0, lines.len() as u64);
            }
        }
    }
}
