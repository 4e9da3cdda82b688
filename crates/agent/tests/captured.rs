//! The agent over the tree the fault lab captured during its outage (crates/node/tests/data/lab-outage:
//! map mpatha on sda and sdb, both offline; qemu, libvirtd, jbd2 and sync in D state; a libvirtd
//! zombie whose parent libvirtd is in D): the metrics, the endpoints over real loopback sockets, the
//! bundles on a new failure, the summary and its windows, node conditions against a stand-in API.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rootline_agent::agent::GRACE;
use rootline_agent::http::{self, Handler};
use rootline_agent::{bundles, conditions, pull, summary, Agent, Config, Source};
use rootline_node::doctor;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../node/tests/data/lab-outage")
}

fn config() -> Config {
    Config {
        source: Source::Captured(data()),
        interval: Duration::from_secs(30),
        doctor: doctor::Options::default(),
        grace: GRACE,
        host: None,
        textfile: None,
        bundles: None,
        summary: None,
        summary_interval: Duration::from_secs(300),
        summary_timeout: Duration::from_secs(300),
        conditions: None,
    }
}

/// `name{labels} value` lines of an exposition, by name and label text.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn the_outage_as_metrics() {
    let a = Agent::new(config()).unwrap();
    a.cycle();
    let m = samples(&a.exposition());
    let get = |k: &str| *m.get(k).unwrap_or_else(|| panic!("{k} missing: {:#?}", m.keys().collect::<Vec<_>>()));
    assert_eq!(get(r#"rootline_multipath_map_stale{map="mpatha",dm="dm-0"}"#), 1.0);
    assert_eq!(get(r#"rootline_multipath_paths{map="mpatha",state="active"}"#), 0.0);
    assert_eq!(get(r#"rootline_multipath_paths{map="mpatha",state="failed"}"#), 2.0);
    assert_eq!(get("rootline_tasks_in_d_state"), 5.0);
    assert_eq!(get(r#"rootline_tasks_in_d_state_by_command{command="qemu-system-x86"}"#), 2.0);
    assert_eq!(get(r#"rootline_tasks_in_d_state_by_command{command="jbd2/dm-0-8"}"#), 1.0);
    assert_eq!(get(r#"rootline_zombie_processes{parent_comm="libvirtd"}"#), 1.0);
    assert_eq!(get("rootline_libvirt_responsive"), 0.0);
    assert_eq!(get("rootline_node_status"), 2.0);
    assert_eq!(get(r#"rootline_findings{signature="multipath.stale-map"}"#), 1.0);
    assert_eq!(get(r#"rootline_host_info{host="s-lab01-com601-krw1a"}"#), 1.0);
    assert_eq!(get("rootline_cycles_total"), 1.0);
    assert!(get("rootline_last_cycle_timestamp_seconds") > 1.0e9);
    assert_eq!(get(r#"rootline_check_timeouts_total{check="doctor"}"#), 0.0);
    // Captured command outputs were not run: no duration for them, one for the whole check.
    assert!(m.contains_key(r#"rootline_check_duration_seconds{check="doctor"}"#));
    assert!(!m.keys().any(|k| k.contains(r#"check_duration_seconds{check="dmsetup"#)));
    a.cycle();
    assert_eq!(samples(&a.exposition())["rootline_cycles_total"], 2.0);
}

#[test]
fn a_host_name_given_wins_over_the_captured_one() {
    let mut c = config();
    c.host = Some("compute-7".into());
    let a = Agent::new(c).unwrap();
    a.cycle();
    assert!(a.exposition().contains(r#"rootline_host_info{host="compute-7"} 1"#));
}

#[test]
fn a_tree_without_proc_or_sys_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let mut c = config();
    c.source = Source::Captured(d.path().to_path_buf());
    assert!(Agent::new(c).err().unwrap().contains("no proc/ or sys/block/"));
    c = config();
    c.source = Source::Captured(d.path().join("missing"));
    assert!(Agent::new(c).is_err());
}

#[test]
fn textfile_is_written_every_cycle() {
    let d = tempfile::tempdir().unwrap();
    let mut c = config();
    c.textfile = Some(d.path().to_path_buf());
    let a = Agent::new(c).unwrap();
    a.cycle();
    a.cycle();
    let text = std::fs::read_to_string(d.path().join("rootline.prom")).unwrap();
    assert_eq!(samples(&text)["rootline_cycles_total"], 2.0);
    assert!(text.contains(r#"rootline_multipath_map_stale{map="mpatha",dm="dm-0"} 1"#));
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    // Generous: the machine may be busy; only a hang fails this.
    let until = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < until, "{what}: not after 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn bundle_names(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .map(|rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_new_failure_writes_one_bundle_and_a_lasting_one_no_more() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("bundles");
    let mut c = config();
    c.bundles = Some(bundles::Config {
        dir: dir.clone(),
        keep: 3,
        max_bytes: 1 << 30,
        min_gap: Duration::from_secs(0),
        collect: None,
    });
    // An earlier agent was stopped while writing a bundle: its partial file goes.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rootline-s-lab01-com601-krw1a-20261201T000000Z.tar.partial"), "cut").unwrap();
    let a = Agent::new(c).unwrap();
    assert!(bundle_names(&dir).is_empty());
    a.cycle();
    wait_for("the first bundle", || a.state().stats.bundles_written == 1);
    let names = bundle_names(&dir);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("rootline-s-lab01-com601-krw1a-") && names[0].ends_with(".tar.zst"), "{names:?}");
    // The same failures in the next cycles: nothing new, no bundle.
    a.cycle();
    a.cycle();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(a.state().stats.bundles_written, 1);
    assert_eq!(bundle_names(&dir).len(), 1);
    // The bundle holds the cycle's doctor report.
    let bytes = std::fs::read(dir.join(&names[0])).unwrap();
    let tar = zstd::decode_all(&bytes[..]).unwrap();
    let mut ar = tar::Archive::new(&tar[..]);
    let mut found = BTreeMap::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().display().to_string();
        let mut s = String::new();
        e.read_to_string(&mut s).unwrap();
        found.insert(p.rsplit('/').next().unwrap().to_string(), s);
    }
    let report: serde_json::Value = serde_json::from_str(&found["rootline-doctor.json"]).unwrap();
    assert_eq!(report["status"], "failure");
    assert!(found["rootline-agent.json"].contains("multipath.stale-map|mpatha|"));
}

#[test]
fn failure_keys_tell_maps_apart() {
    let r = doctor::check(&rootline_node::root::Root::Dir(data()), None, &doctor::Options::default());
    let keys = bundles::failure_keys(&r);
    assert!(keys.contains("multipath.stale-map|mpatha|"), "{keys:?}");
    assert!(keys.contains("process.zombie||"), "{keys:?}");
}

fn serve(a: Arc<Agent>, token: Option<String>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h: Arc<dyn Handler> = a;
    std::thread::spawn(move || http::serve(l, h, http::Options { token, ..Default::default() }));
    port
}

fn raw(port: u16, request: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_string(), body.to_string())
}

fn get(port: u16, path: &str, token: Option<&str>) -> (u16, String, String) {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    raw(port, &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n"))
}

#[test]
fn endpoints_over_loopback() {
    let mut c = config();
    c.summary = Some(summary::Config {
        logs: summary::Logs::Captured(data()),
        since: Duration::from_secs(6 * 3600),
        max_bytes: 64 << 20,
        timeout: Duration::from_secs(10),
    });
    let a = Arc::new(Agent::new(c).unwrap());
    let port = serve(a.clone(), None);
    // Before the first cycle: healthz says so; metrics describe the agent only.
    assert_eq!(get(port, "/healthz", None).0, 503);
    assert_eq!(get(port, "/summary", None).0, 503);
    a.cycle();
    a.refresh_summary();
    let (st, head, body) = get(port, "/metrics", None);
    assert_eq!(st, 200);
    assert!(head.contains("Content-Type: text/plain; version=0.0.4"), "{head}");
    assert!(head.contains(&format!("Content-Length: {}", body.len())), "{head}");
    assert!(body.contains(r#"rootline_multipath_map_stale{map="mpatha",dm="dm-0"} 1"#));
    assert_eq!(get(port, "/healthz", None).0, 200);
    let (st, head, body) = raw(port, "HEAD /metrics HTTP/1.1\r\n\r\n");
    assert_eq!((st, body.as_str()), (200, ""), "{head}");
    assert_eq!(get(port, "/nothing", None).0, 404);
    assert_eq!(raw(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").0, 405);
    assert_eq!(raw(port, "garbage\r\n\r\n").0, 400);
    let huge = format!("GET /metrics HTTP/1.1\r\nX-Pad: {}\r\n\r\n", "a".repeat(20_000));
    assert_eq!(raw(port, &huge).0, 431);
    // The summary: the captured multipath -ll output shows the failed paths.
    let (st, _, body) = get(port, "/summary", None);
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["schema"], summary::SCHEMA);
    assert_eq!(v["host"], "s-lab01-com601-krw1a");
    let n = pull::summary_from_json(&v).unwrap();
    assert_eq!(n.host.as_deref(), Some("s-lab01-com601-krw1a"));
    assert!(!n.signatures.is_empty(), "{body}");
    assert!(n.templates.keys().all(|h| v["template_details"].get(h).is_some()));
    // A window before everything the tree holds: nothing in it.
    let (st, _, body) = get(port, "/summary?until=2000-01-01T00:00:00Z", None);
    assert_eq!(st, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["window"]["until"], "2000-01-01T00:00:00Z");
    assert!(v["summary"]["signatures"]
        .as_object()
        .unwrap()
        .values()
        .all(|s| s["first"].is_null() || s["first"].as_str().unwrap() < "2000"));
    assert_eq!(get(port, "/summary?since=yesterday", None).0, 400);
    assert_eq!(get(port, "/summary?last=1h", None).0, 200);
}

#[test]
fn a_client_that_sends_its_request_slowly_is_cut_off() {
    let a = Arc::new(Agent::new(config()).unwrap());
    a.cycle();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h: Arc<dyn Handler> = a;
    let opts = http::Options { token: None, head_deadline: Duration::from_secs(1) };
    std::thread::spawn(move || http::serve(l, h, opts));
    // One byte every 100 ms, each well within any read timeout: the head never completes, and the
    // connection is answered 408 and closed instead of being held (the bytes it would take at this
    // pace are far more than the deadline allows).
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let request = format!("GET /metrics HTTP/1.1\r\nX-Pad: {}", "a".repeat(600));
    let mut sent = 0;
    for b in request.bytes() {
        if s.write_all(&[b]).is_err() {
            break;
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 408 "), "after {sent} bytes: {text:?}");
    assert!(sent < request.len(), "the server read all {sent} bytes");
    // Meanwhile and after, others are served.
    assert_eq!(get(port, "/metrics", None).0, 200);
}

#[test]
fn a_token_is_required_when_given() {
    let a = Arc::new(Agent::new(config()).unwrap());
    a.cycle();
    let port = serve(a, Some("0123456789abcdef".into()));
    let (st, head, _) = get(port, "/metrics", None);
    assert_eq!(st, 401);
    assert!(head.contains("WWW-Authenticate: Bearer"));
    assert_eq!(get(port, "/metrics", Some("0123456789abcdeX")).0, 401);
    assert_eq!(get(port, "/metrics", Some("0123456789abcdef")).0, 200);
    assert_eq!(get(port, "/healthz", None).0, 200);
    // The client side sends the token too.
    let url = pull::parse_url(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
    assert!(pull::get(&url, None, Duration::from_secs(30)).unwrap_err().starts_with("HTTP 401"));
    let body = pull::get(&url, Some("0123456789abcdef"), Duration::from_secs(30)).unwrap();
    assert!(String::from_utf8(body).unwrap().contains("rootline_cycles_total 1"));
}

/// Requests seen: request line, content type, body.
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// A stand-in Kubernetes API (what `kubectl proxy` would forward): records every request.
fn fake_api() -> (u16, Seen) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let mut c = c.unwrap();
            c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let n = c.read(&mut chunk).unwrap();
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some((h, b)) = text.split_once("\r\n\r\n") {
                    let len: usize = h
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .map(|v| v.trim().parse().unwrap())
                        .unwrap_or(0);
                    if b.len() >= len {
                        break (h.to_string(), b.to_string());
                    }
                }
                assert!(n > 0, "short request");
            };
            let line = head.lines().next().unwrap().to_string();
            let ct = head.lines().find_map(|l| l.strip_prefix("Content-Type: ")).unwrap_or("").to_string();
            s2.lock().unwrap().push((line, ct, body));
            let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        }
    });
    (port, seen)
}

#[test]
fn node_conditions_are_patched_and_an_event_created() {
    let (port, seen) = fake_api();
    let mut c = config();
    c.host = Some("compute-7".into());
    c.conditions = Some(conditions::Api::new(&format!("http://127.0.0.1:{port}")).unwrap());
    let a = Agent::new(c).unwrap();
    a.cycle();
    let reqs = seen.lock().unwrap().clone();
    let (line, ct, body) = &reqs[0];
    assert_eq!(line, "PATCH /api/v1/nodes/compute-7/status HTTP/1.1");
    assert_eq!(ct, "application/strategic-merge-patch+json");
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    let conds: BTreeMap<&str, &serde_json::Value> =
        v["status"]["conditions"].as_array().unwrap().iter().map(|c| (c["type"].as_str().unwrap(), c)).collect();
    assert_eq!(conds["StaleMultipathMap"]["status"], "True");
    assert!(conds["StaleMultipathMap"]["message"].as_str().unwrap().contains("mpatha"));
    assert_eq!(conds["LibvirtUnresponsive"]["status"], "True");
    // Tasks in D wait on the stale map: hung now, not only after two minutes.
    assert_eq!(conds["TaskHung"]["status"], "True");
    // One Event per condition that turned True, about the node.
    let events: Vec<serde_json::Value> = reqs
        .iter()
        .filter(|r| r.0 == "POST /api/v1/namespaces/default/events HTTP/1.1")
        .map(|r| serde_json::from_str(&r.2).unwrap())
        .collect();
    assert_eq!(events.len(), 3, "{reqs:#?}");
    assert!(events.iter().all(|e| e["involvedObject"]["kind"] == "Node" && e["involvedObject"]["name"] == "compute-7"));
    assert!(events.iter().any(|e| e["reason"] == "StaleMultipathMap" && e["type"] == "Warning"));
    // Unchanged in the next cycle, before the heartbeat: nothing is sent.
    a.cycle();
    assert_eq!(seen.lock().unwrap().len(), reqs.len());
}

#[test]
fn task_hung_needs_two_minutes_in_d_without_a_stale_map() {
    let mut r = doctor::check(&rootline_node::root::Root::Dir(data()), None, &doctor::Options::default());
    r.findings.retain(|f| f.signature != "process.d-state");
    let mut c = conditions::Conditions::new(conditions::Api::new("http://127.0.0.1:1").unwrap(), "n");
    let t0 = Instant::now();
    let hung = |w: Vec<conditions::Wanted>| w.iter().find(|w| w.kind == "TaskHung").unwrap().status;
    assert!(!hung(c.wanted(&r, t0)));
    assert!(!hung(c.wanted(&r, t0 + Duration::from_secs(60))));
    let w = c.wanted(&r, t0 + conditions::HUNG_AFTER);
    assert!(hung(w.clone()));
    assert!(w.iter().find(|w| w.kind == "TaskHung").unwrap().message.contains("jbd2/dm-0-8"));
}

#[test]
fn a_check_that_hangs_is_counted_and_cycles_never_overlap() {
    // A check that blocks until released: the watchdog gives up on it at the deadline, the next
    // cycle does not start a second one while it runs, and once it returns cycles go on.
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (r2, m2, c2) = (running.clone(), most.clone(), calls.clone());
    let check = move |root: &rootline_node::root::Root, label: Option<String>, o: &doctor::Options| {
        use std::sync::atomic::Ordering::SeqCst;
        let now = r2.fetch_add(1, SeqCst) + 1;
        m2.fetch_max(now, SeqCst);
        if c2.fetch_add(1, SeqCst) == 0 {
            let _ = release_rx.lock().unwrap().recv();
        }
        let r = doctor::check(root, label, o);
        r2.fetch_sub(1, SeqCst);
        r
    };
    let mut c = config();
    c.doctor.deadline = Duration::from_millis(100);
    // The hung check is released by the test, so the watchdog's wait only bounds the cycle after
    // it: generous, so a busy machine does not make that one time out too.
    c.grace = Duration::from_secs(3);
    let a = Agent::new(c).unwrap().with_check(Arc::new(check));
    a.cycle();
    let m = samples(&a.exposition());
    assert_eq!(m[r#"rootline_check_timeouts_total{check="doctor"}"#], 1.0);
    assert_eq!(m["rootline_cycles_total"], 0.0);
    // Still hung: the next cycles are skipped, not started beside it.
    a.cycle();
    a.cycle();
    let m = samples(&a.exposition());
    assert_eq!(m["rootline_cycles_skipped_total"], 2.0);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    release_tx.send(()).unwrap();
    wait_for("the hung check to return", || running.load(std::sync::atomic::Ordering::SeqCst) == 0);
    a.cycle();
    let m = samples(&a.exposition());
    assert_eq!(m["rootline_cycles_total"], 1.0, "{m:#?}");
    assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 1, "two checks ran at once");
}

#[test]
fn on_a_live_node_the_bundle_is_collects() {
    // The bundle of a live node is `rootline collect`'s: here this machine's, without commands or
    // journal, its logs read from an empty directory, triggered by the captured outage's failures.
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("bundles");
    let logs = d.path().join("root");
    std::fs::create_dir_all(logs.join("var/log")).unwrap();
    let mut c = config();
    c.host = Some("node-x".into());
    c.bundles = Some(bundles::Config {
        dir: dir.clone(),
        keep: 2,
        max_bytes: 1 << 30,
        min_gap: Duration::from_secs(3600),
        collect: Some(rootline_node::collect::Options {
            since: Duration::from_secs(3600),
            max_bytes: 8 << 20,
            command_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(60),
            run_commands: false,
            journal: false,
            log_root: logs.display().to_string(),
            host_root: None,
            host: Some("node-x".into()),
        }),
    });
    let a = Agent::new(c).unwrap();
    a.cycle();
    wait_for("the collected bundle", || {
        let s = a.state();
        s.stats.bundles_written + s.stats.bundle_errors == 1
    });
    assert_eq!(a.state().stats.bundles_written, 1, "{:?}", a.state().notes);
    let names = bundle_names(&dir);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("rootline-node-x-"), "{names:?}");
    let tar = zstd::decode_all(&std::fs::read(dir.join(&names[0])).unwrap()[..]).unwrap();
    let mut ar = tar::Archive::new(&tar[..]);
    let members: Vec<String> =
        ar.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
    assert!(members.iter().any(|m| m.ends_with("/rootline-manifest.json")), "{members:?}");
    assert!(members.iter().any(|m| m.ends_with("/snapshots/proc-pid-stat.txt")), "{members:?}");
    // The same failures again, and within min_gap: no second bundle.
    a.cycle();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(bundle_names(&dir).len(), 1);
}
