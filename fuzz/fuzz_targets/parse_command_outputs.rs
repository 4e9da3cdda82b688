//! Fuzz target: arbitrary bytes through the snapshot reader of each command a sosreport or bundle
//! path names (the first byte picks the command), and through `kubectl describe`'s reader: nothing
//! panics and every line is reported once.
#![no_main]

use rootline_ingest::formats::{snapshot, LinePos, Record, Sink, SourceCtx};

const PATHS: &[&str] = &[
    "s/sos_commands/multipath/multipath_-ll",
    "s/sos_commands/multipath/multipathd_show_paths",
    "s/sos_commands/iscsi/iscsiadm_-m_session_-P_3",
    "s/sos_commands/devicemapper/dmsetup_ls_--tree",
    "s/sos_commands/devicemapper/dmsetup_info",
    "s/sos_commands/devicemapper/dmsetup_table",
    "s/sos_commands/devicemapper/dmsetup_status",
    "s/sos_commands/devicemapper/dmsetup_deps",
    "s/sos_commands/process/ps_-elfL",
    "s/sos_commands/process/ps_auxwwwm",
    "s/sos_commands/block/lsblk",
    "s/sos_commands/block/lsblk_-O_-P",
    "b/commands/lsblk_-J.txt",
    "s/sos_commands/block/ls_-lanR_.dev",
    "s/sos_commands/scsi/lsscsi",
    "s/sos_commands/filesys/mount_-l",
    "s/sos_commands/filesys/df_-al_-x_autofs",
    "s/sos_commands/filesys/findmnt",
    "s/sos_commands/crio/crictl_ps_-a",
    "s/sos_commands/crio/containers/crictl_inspect_5d6e",
    "s/sos_commands/kubernetes/kubectl_get_pods_-o_wide",
    "s/sos_commands/libvirt/virsh_domblklist_instance-00000b12",
];

#[derive(Default)]
struct Count(u64);

impl Sink for Count {
    fn record(&mut self, _: LinePos, rec: Record<'_>) {
        std::hint::black_box(&rec);
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

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let ctx = SourceCtx { path: PATHS[pick as usize % PATHS.len()].into(), ..SourceCtx::default() };
    let mut p = snapshot::parser(&ctx);
    let mut sink = Count::default();
    let mut n = 0u64;
    let mut off = 0u64;
    for (i, line) in rest.split(|&c| c == b'\n').enumerate() {
        p.feed(LinePos { line: i as u64 + 1, offset: off }, line, &mut sink);
        off += line.len() as u64 + 1;
        n += 1;
    }
    p.finish(&mut sink);
    assert_eq!(sink.0, n, "every line is reported once");
});
