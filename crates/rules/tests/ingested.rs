//! The compute-side rules on events as ingest makes them from files in their real formats (an
//! oslo.log file, a libvirtd log, a qemu domain log, a containerd log, kubelet and containerd through
//! syslog), not as the harness builds them: the fallbacks and the rules that read fields (`func`,
//! `caller`, `domain`, `request_id`) must fire there too.

use std::path::Path;

use rootline_rules::{window, Engine, Finding, Pack};

fn findings(files: &[(&str, &str)]) -> Vec<Finding> {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        paths.push(p);
    }
    let timeline = rootline_ingest::read(&paths, &rootline_ingest::Options::default());
    let events: Vec<_> = timeline.into_events().collect();
    let engine = Engine::new(Pack::builtin().unwrap());
    window::run(&engine, events.iter()).findings
}

fn one<'a>(fs: &'a [Finding], sig: &str) -> &'a Finding {
    let mine: Vec<&Finding> = fs.iter().filter(|f| f.signature == sig).collect();
    assert_eq!(mine.len(), 1, "{sig}: {fs:#?}");
    mine[0]
}

fn none(fs: &[Finding], sig: &str) {
    assert!(fs.iter().all(|f| f.signature != sig), "{sig} fired: {fs:#?}");
}

#[test]
fn nova_and_cinder_oslo_files() {
    let nova = "\
2025-10-13 19:56:10.412 7 INFO nova.compute.manager [req-0a - - - - -] [instance: 0b6f2c1e-8a4d-4e2b-9c3f-1a2b3c4d5e6f] Attaching volume
2025-10-13 19:57:06.000 7 ERROR nova.compute.manager [req-1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9 - - - - -] Error updating resources for node compute-1.
2025-10-13 19:57:06.000 7 ERROR nova.compute.manager Traceback (most recent call last):
2025-10-13 19:57:06.000 7 ERROR nova.compute.manager   File \"/usr/lib/python3/nova/compute/manager.py\", line 10010, in _update
2025-10-13 19:57:06.000 7 ERROR nova.compute.manager     self._update_available_resource()
2025-10-13 19:57:06.000 7 ERROR nova.compute.manager nova.exception.ComputeHostNotFound: Compute host compute-1 could not be found.
2025-10-13 19:57:07.000 7 WARNING nova.compute.manager [-] While synchronizing instance power states, found 3 instances
2025-10-13 19:58:11.100 7 ERROR nova.virt.libvirt.driver [req-2 - - - - -] [instance: 0b6f2c1e-8a4d-4e2b-9c3f-1a2b3c4d5e6f] Failed to attach volume at mountpoint: /dev/vdb: os_brick.exception.VolumeDeviceNotFound: Volume device not found at .
2025-10-13 19:59:00.000 7 ERROR nova.compute.manager [req-3 - - - - -] [instance: 0b6f2c1e-8a4d-4e2b-9c3f-1a2b3c4d5e6f] Instance failed to spawn: libvirt.libvirtError: error from service: CreateMachine: Did not receive a reply.
";
    let cinder = "\
2025-10-13 19:30:00.000 12 ERROR cinder.volume.manager [req-9 - - - - -] Failed to initialize driver.: rados.ObjectNotFound: [errno 2] error calling conf_read_file
2025-10-13 19:31:00.000 12 ERROR os_brick.initiator.connectors.iscsi [req-8 - - - - -] Exception encountered during portal discovery: oslo_concurrency.processutils.ProcessExecutionError: Unexpected error while running command.
";
    let fs = findings(&[("nova-compute.log", nova), ("cinder-volume.log", cinder)]);
    let errors: Vec<&Finding> = fs.iter().filter(|f| f.signature == "openstack.service-error").collect();
    let e = errors.iter().find(|f| f.has("service", "nova.compute.manager")).expect("nova's error");
    assert!(e.fallback && e.has("exception", "nova.exception.ComputeHostNotFound"), "{e:#?}");
    assert!(e.has("request_id", "req-1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"), "{e:#?}");
    let a = one(&fs, "nova.volume-attach-failed");
    assert!(
        a.has("instance", "0b6f2c1e-8a4d-4e2b-9c3f-1a2b3c4d5e6f")
            && a.has("exception", "os_brick.exception.VolumeDeviceNotFound")
    );
    one(&fs, "cinder.volume-device-not-found");
    one(&fs, "nova.spawn-failed");
    one(&fs, "libvirt.machine-registration-timeout");
    one(&fs, "cinder.driver-not-initialized");
    let c = errors.iter().find(|f| f.has("service", "os_brick.initiator.connectors.iscsi")).expect("os-brick's error");
    assert!(c.has("exception", "oslo_concurrency.processutils.ProcessExecutionError"), "{c:#?}");
    // Explained lines and warnings give no fallback; a libvirtError is not nova's.
    assert_eq!(errors.len(), 2, "{errors:#?}");
    none(&fs, "libvirt.error");
}

#[test]
fn libvirtd_and_qemu_logs() {
    let libvirtd = "\
2025-10-13 10:56:05.123+0000: 4242: info : libvirt version: 10.0.0, package: 10.0.0-2ubuntu8
2025-10-13 10:58:01.123+0000: 4242: error : virStorageFileGetMetadataRecurse:1010 : cannot open file '/dev/dm-21': Input/output error
2025-10-13 10:58:02.000+0000: 4243: error : virNetSocketReadWire:1808 : End of file while reading data: Input/output error
2025-10-13 10:58:03.000+0000: 4244: error : qemuMonitorIO:580 : internal error: End of file from qemu monitor
";
    let domain = "\
2025-10-13 10:56:00.123+0000: starting up libvirt version: 10.0.0, qemu version: 8.2.2
2025-10-13T10:59:00.123456Z qemu-system-x86_64: terminating on signal 15 from pid 2304 (<unknown process>)
2025-10-13 10:59:00.200+0000: shutting down, reason=destroyed
";
    let fs = findings(&[("libvirt/libvirtd.log", libvirtd), ("libvirt/qemu/instance-0000a1b2.log", domain)]);
    let d = one(&fs, "libvirt.daemon-error");
    assert!(d.fallback && d.has("func", "virStorageFileGetMetadataRecurse:1010"), "{d:#?}");
    one(&fs, "libvirt.client-disconnected");
    one(&fs, "qemu.monitor-failed");
    none(&fs, "libvirt.connection-lost");
    let k = one(&fs, "qemu.killed");
    assert!(k.has("domain", "instance-0000a1b2") && k.has("sender", "<unknown process>"), "{k:#?}");
}

#[test]
fn kubelet_and_containerd_through_syslog_and_files() {
    let messages = "\
Oct 13 20:05:00 node kubelet[2304]: E1013 20:05:00.000000    2304 kubelet.go:2240] \"Skipping pod synchronization\" err=\"PLEG is not healthy: pleg was last seen active 3m5.2s ago; threshold is 3m0s\"
Oct 13 20:05:01 node kubelet[2304]: E1013 20:05:01.000000    2304 kuberuntime_container.go:447] \"ListContainers failed\" err=\"rpc error: code = Unknown desc = something new\"
Oct 13 20:05:02 node kubelet[2304]: E1013 20:05:02.000000    2304 kubelet_node_status.go:70] \"Unable to update node status\" err=\"update node status exceeds retry count\"
Oct 13 20:05:03 node containerd[1500]: time=\"2025-10-13T20:05:03.000000000+09:00\" level=error msg=\"collecting metrics for 509e39bd68c06259ebcbb976e13460031ebbd7e2b9291a704b2e7e49a6fb46a0\" error=\"ttrpc: closed: unknown\"
Oct 13 20:05:04 node containerd[1500]: time=\"2025-10-13T20:05:04.000000000+09:00\" level=warning msg=\"cleaning up after shim disconnected\" id=509e39bd68c06259ebcbb976e13460031ebbd7e2b9291a704b2e7e49a6fb46a0
";
    let containerd = "\
time=\"2025-10-13T20:06:00.000000000+09:00\" level=error msg=\"StopContainer for \\\"9758a90e4824184fc010e6234a9de2f0789c969e7187fbc77687f1d73280b430\\\" failed\" error=\"failed to kill container: context deadline exceeded: unknown\"
time=\"2025-10-13T20:06:01.000000000+09:00\" level=info msg=\"Stop container \\\"9758a90e4824184fc010e6234a9de2f0789c969e7187fbc77687f1d73280b430\\\" with signal terminated\"
";
    let fs = findings(&[("messages", messages), ("containerd.log", containerd)]);
    one(&fs, "k8s.runtime-unresponsive");
    let k = one(&fs, "k8s.kubelet-error");
    assert!(k.has("caller", "kuberuntime_container.go:447") && k.has("code", "Unknown"), "{k:#?}");
    let r = one(&fs, "k8s.runtime-error");
    assert!(r.has("container_id", "509e39bd68c06259ebcbb976e13460031ebbd7e2b9291a704b2e7e49a6fb46a0"), "{r:#?}");
    let s = one(&fs, "k8s.container-stop-failed");
    assert!(s.has("container_id", "9758a90e4824184fc010e6234a9de2f0789c969e7187fbc77687f1d73280b430"), "{s:#?}");
    let _ = Path::new("");
}

/// Scanning with watched literals gives the hits a plain scan gives, and reports exactly the
/// watched literals a separate search finds, on every event of the example incidents.
#[test]
fn a_watching_scan_hits_what_a_scan_hits_and_finds_the_watched_literals() {
    let engine = Engine::new(Pack::builtin().unwrap());
    let mine: Vec<Vec<u8>> = ["/dev/", "dm-", "blocked for more than", "sd ", "multipath", "(qemu"]
        .iter()
        .map(|l| l.as_bytes().to_vec())
        .collect();
    let alone = rootline_rules::prefilter::Literals::new(mine.clone());
    let watch = engine.watch(&mine);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/incidents");
    let (mut scratch, mut a, mut b, mut watched) = (Default::default(), Vec::new(), Vec::new(), Vec::new());
    let (mut events, mut with_hits, mut with_watched) = (0, 0, 0);
    for dir in std::fs::read_dir(&root).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()) {
        let mut merged = rootline_ingest::read(std::slice::from_ref(&dir), &Default::default()).into_events();
        while let Some(ev) = merged.next_ref() {
            a.clear();
            b.clear();
            engine.scan_ref(&ev, &mut scratch, &mut a);
            engine.scan_watching(&ev, &watch, &mut scratch, &mut b, &mut watched);
            assert_eq!(a, b, "{}", String::from_utf8_lossy(ev.message));
            let mut expected = Vec::new();
            alone.find(ev.message, |li| expected.push(li as u32));
            expected.sort_unstable();
            watched.sort_unstable();
            assert_eq!(watched, expected, "{}", String::from_utf8_lossy(ev.message));
            events += 1;
            with_hits += !a.is_empty() as usize;
            with_watched += !watched.is_empty() as usize;
        }
    }
    assert!(events > 1000 && with_hits > 100 && with_watched > 100, "{events} {with_hits} {with_watched}");
}
