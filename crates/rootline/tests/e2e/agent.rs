//! `rootline agent` and `rootline fleet --agents` as an operator runs them: the alert rules under
//! promtool, the exposition under promtool's linter, a real Prometheus (started here, on loopback,
//! in a temporary directory) scraping an agent that reads the lab's captured outage until the
//! alerts fire, a command that hangs on a live run, and the fleet pulled from agents.
//!
//! Every server listens on 127.0.0.1. promtool and prometheus come from Debian's prometheus
//! package; scripts/setup installs it, and a test that needs it fails saying so.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rootline_agent::pull;
use serde_json::Value;

use super::support::root;

const OUTAGE: &str = "crates/node/tests/data/lab-outage";

/// A binary the test needs, or a failure saying how to install it.
fn need(name: &str) -> PathBuf {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "{name} is missing: this test needs Debian's prometheus package (promtool, prometheus); \
             install it with scripts/setup (or apt-get install --no-install-recommends prometheus)"
        )
    })
}

fn rootline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootline"))
        .current_dir(root())
        .env("LANG", "C.UTF-8")
        .args(args)
        .output()
        .expect("rootline runs")
}

/// A child process killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `rootline agent ARGS --listen 127.0.0.1:0` and returns it with the address it serves.
fn start_agent(args: &[&str], path_prefix: Option<&Path>) -> (Running, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rootline"));
    cmd.current_dir(root()).arg("agent").args(args).args(["--listen", "127.0.0.1:0"]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(p) = path_prefix {
        cmd.env("PATH", format!("{}:{}", p.display(), std::env::var("PATH").unwrap_or_default()));
    }
    let mut child = cmd.spawn().expect("rootline agent starts");
    let err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let running = Running(child);
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => {
                if let Some(rest) = l.split("serving http://").nth(1) {
                    let addr = rest.split('/').next().unwrap().to_string();
                    return (running, addr);
                }
            }
            Err(_) => panic!("rootline agent {args:?} did not say where it serves within 60 s"),
        }
    }
}

fn http_get(addr: &str, path: &str, token: Option<&str>) -> Result<String, String> {
    let url = pull::parse_url(&format!("http://{addr}{path}"))?;
    pull::get(&url, token, Duration::from_secs(30)).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Polls `f` every half second until it gives a value, for at most `limit` (generous: only a
/// hang, not a slow machine, should fail a test).
fn eventually<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Result<T, String>) -> T {
    let until = Instant::now() + limit;
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if Instant::now() >= until => panic!("{what}: not within {limit:?}; last: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn alert_rules_pass_promtool_and_their_unit_tests() {
    let promtool = need("promtool");
    let dir = root().join("deploy/prometheus");
    for args in [vec!["check", "rules", "rootline-alerts.yaml"], vec!["test", "rules", "rootline-alerts.test.yaml"]] {
        let o = Command::new(&promtool).current_dir(&dir).args(&args).output().unwrap();
        assert!(
            o.status.success(),
            "promtool {args:?}:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn the_exposition_passes_promtools_linter() {
    let promtool = need("promtool");
    let o = rootline(&["agent", "--root", OUTAGE, "--once"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&o.stdout).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let problems = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // The linter reads the `d` of "D state" as the abbreviation of days; the names are the ones
    // operators use for the state `ps` prints as D (docs/agent.md). Nothing else may be reported.
    let other: Vec<&str> = problems
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| {
            !(l.starts_with("rootline_tasks_in_d_state")
                && l.ends_with("metric names should not contain abbreviated units"))
        })
        .collect();
    assert!(other.is_empty(), "promtool check metrics: {problems}");
}

#[test]
fn prometheus_scrapes_the_agent_on_a_sick_tree_and_the_alerts_fire() {
    let prometheus = need("prometheus");
    let tmp = tempfile::tempdir().unwrap();
    let token = tmp.path().join("token");
    std::fs::write(&token, "s3cr3t-0123456789abcdef\n").unwrap();
    let (_agent, addr) = start_agent(
        &["--root", OUTAGE, "--interval", "1s", "--no-summary", "--token-file", token.to_str().unwrap()],
        None,
    );
    // The rules as shipped, without their `for:` durations (promtool's unit tests cover those): this
    // test checks that what the rules select is what the agent serves.
    let rules = std::fs::read_to_string(root().join("deploy/prometheus/rootline-alerts.yaml")).unwrap();
    let rules: String = rules
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("for: ") {
                format!("{}for: 0s", &l[..l.len() - l.trim_start().len()])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(tmp.path().join("rules.yaml"), rules).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [rules.yaml]\n\
         scrape_configs:\n  - job_name: rootline-agent\n    authorization:\n      type: Bearer\n      credentials_file: {}\n    \
         static_configs:\n      - targets: ['{addr}']\n",
        token.display()
    );
    std::fs::write(tmp.path().join("prometheus.yml"), config).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = std::fs::File::create(tmp.path().join("prometheus.log")).unwrap();
    let _prom = Running(
        Command::new(&prometheus)
            .current_dir(tmp.path())
            .args([
                "--config.file=prometheus.yml",
                "--storage.tsdb.path=data",
                &format!("--web.listen-address=127.0.0.1:{port}"),
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("prometheus starts"),
    );
    let prom = format!("127.0.0.1:{port}");
    let want = [
        "RootlineMultipathAllPathsDown",
        "RootlineMultipathMapStale",
        "RootlineTasksInDState",
        "RootlineLibvirtUnresponsive",
        "RootlineZombiesUnderLibvirtd",
    ];
    let plog = tmp.path().join("prometheus.log");
    let alerts: Vec<Value> = eventually("the alerts to fire", Duration::from_secs(240), || {
        let body = http_get(&prom, "/api/v1/alerts", None)?;
        let v: Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        let alerts = v["data"]["alerts"].as_array().cloned().unwrap_or_default();
        let firing: Vec<&str> = alerts
            .iter()
            .filter(|a| a["state"] == "firing")
            .filter_map(|a| a["labels"]["alertname"].as_str())
            .collect();
        if want.iter().all(|w| firing.contains(w)) {
            Ok(alerts)
        } else {
            let log = std::fs::read_to_string(&plog).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            Err(format!("firing {firing:?}; prometheus log ends {tail:?}"))
        }
    });
    let stale = alerts.iter().find(|a| a["labels"]["alertname"] == "RootlineMultipathMapStale").unwrap();
    assert_eq!(stale["labels"]["map"], "mpatha");
    assert_eq!(stale["labels"]["dm"], "dm-0");
    assert_eq!(stale["labels"]["host"], "s-lab01-com601-krw1a");
    assert_eq!(stale["labels"]["severity"], "critical");
    assert!(stale["annotations"]["summary"].as_str().unwrap().contains("mpatha"));
    let zombies = alerts.iter().find(|a| a["labels"]["alertname"] == "RootlineZombiesUnderLibvirtd").unwrap();
    assert_eq!(zombies["labels"]["parent_comm"], "libvirtd");
    // The agent answers and cycles: neither of its own alerts fires.
    for quiet in ["RootlineAgentDown", "RootlineAgentSilent", "RootlineCheckTimingOut"] {
        assert!(!alerts.iter().any(|a| a["labels"]["alertname"] == quiet), "{quiet} fired: {alerts:#?}");
    }
    // What Prometheus stored is what the agent served, through the bearer token.
    let q = http_get(&prom, "/api/v1/query?query=rootline_tasks_in_d_state", None).unwrap();
    let v: Value = serde_json::from_str(&q).unwrap();
    assert_eq!(v["data"]["result"][0]["value"][1], "5", "{q}");
    assert!(http_get(&addr, "/metrics", None).unwrap_err().starts_with("HTTP 401"));
}

#[test]
fn listening_beyond_loopback_needs_a_token_or_insecure() {
    let o = rootline(&["agent", "--root", OUTAGE, "--listen", "0.0.0.0:0"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not a loopback address") && err.contains("--token-file"), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    let short = tmp.path().join("token");
    std::fs::write(&short, "abc\n").unwrap();
    let o = rootline(&["agent", "--root", OUTAGE, "--token-file", short.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("at least 16 characters"));
    let o = rootline(&["agent", "--root", "no/such/tree", "--once"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/tree"));
    let o = rootline(&["agent", "--root", OUTAGE, "--listen", "nowhere"]);
    assert_eq!(o.status.code(), Some(2));
    // One cycle cannot tell a new failure: bundles need a running agent.
    let o = rootline(&["agent", "--root", OUTAGE, "--once", "--bundle-dir", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--bundle-dir"));
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1, "only the token file");
}

#[test]
fn once_prints_the_metrics_or_writes_the_textfile() {
    let o = rootline(&["agent", "--root", OUTAGE, "--once"]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(metric(&out, r#"rootline_multipath_map_stale{map="mpatha",dm="dm-0"}"#), Some(1.0));
    let tmp = tempfile::tempdir().unwrap();
    let o = rootline(&["agent", "--root", OUTAGE, "--once", "--textfile", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let text = std::fs::read_to_string(tmp.path().join("rootline.prom")).unwrap();
    assert_eq!(metric(&text, "rootline_tasks_in_d_state"), Some(5.0));
    let o = rootline(&["agent", "--root", OUTAGE, "--once", "--textfile", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
}

fn fake_bin(dir: &Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn on_this_node_a_command_that_hangs_is_killed_counted_and_the_next_cycle_runs() {
    let bin = tempfile::tempdir().unwrap();
    // virsh that never answers (libvirtd stuck); the other commands are absent or answer.
    fake_bin(bin.path(), "virsh", "sleep 300");
    let (_agent, addr) =
        start_agent(&["--interval", "1s", "--timeout", "1s", "--deadline", "5s", "--no-summary"], Some(bin.path()));
    let text = eventually("two cycles", Duration::from_secs(120), || {
        let t = http_get(&addr, "/metrics", None)?;
        match metric(&t, "rootline_cycles_total") {
            Some(n) if n >= 2.0 => Ok(t),
            n => Err(format!("cycles {n:?}")),
        }
    });
    let timeouts = metric(&text, r#"rootline_check_timeouts_total{check="virsh list --all"}"#).unwrap();
    assert!(timeouts >= 2.0, "{text}");
    assert_eq!(metric(&text, "rootline_libvirt_responsive"), Some(0.0), "{text}");
    assert_eq!(metric(&text, r#"rootline_check_timeouts_total{check="doctor"}"#), Some(0.0), "{text}");
    assert!(metric(&text, r#"rootline_check_duration_seconds{check="virsh list --all"}"#).is_some_and(|s| s >= 1.0));
    assert_eq!(http_get(&addr, "/healthz", None).unwrap().trim(), "ok");
}

#[test]
fn fleet_from_agents_ranks_them_and_lists_the_unreachable() {
    let wave = "examples/fleets/upgrade-wave";
    let (_a, sick) = start_agent(
        &["--root", OUTAGE, "--hostname", "node-37", "--logs", &format!("{wave}/s-dcn37-com604-krw1a")],
        None,
    );
    let (_b, peer1) = start_agent(
        &["--root", OUTAGE, "--hostname", "node-01", "--logs", &format!("{wave}/s-dcn37-com601-krw1a")],
        None,
    );
    let (_c, peer2) = start_agent(
        &["--root", OUTAGE, "--hostname", "node-08", "--logs", &format!("{wave}/s-dcn37-com608-krw1a")],
        None,
    );
    let dead = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    // The summaries are made in the background after start: wait until each answers.
    for a in [&sick, &peer1, &peer2] {
        eventually("the first summary", Duration::from_secs(120), || http_get(a, "/summary", None));
    }
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("agents.txt");
    std::fs::write(&list, format!("# the rack\nhttp://{peer1}\nhttp://{sick}\n{dead}\n")).unwrap();
    let o = rootline(&["fleet", "--agents", list.to_str().unwrap(), &format!("http://{peer2}"), "--json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "one agent is unreachable: {err}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "rootline.fleet-agents/v1");
    assert_eq!((v["agents"].as_u64(), v["nodes"].as_u64()), (Some(4), Some(3)));
    assert_eq!(v["unreachable"][0]["agent"], dead.as_str());
    assert!(v["unreachable"][0]["error"].as_str().unwrap().contains("cannot connect"));
    assert!(err.contains(&dead));
    let ranking: Vec<&str> = v["ranking"].as_array().unwrap().iter().map(|r| r["host"].as_str().unwrap()).collect();
    assert_eq!(ranking[0], "node-37", "{ranking:?}");
    assert_eq!(v["target"], "node-37");
    let only: Vec<&str> =
        v["contrast"]["only_target"].as_array().unwrap().iter().filter_map(|f| f["what"].as_str()).collect();
    assert!(only.contains(&"multipath.stale-map"), "{only:?}");
    // Evidence is cited where the agent read it, not in its private copy.
    let ev = v["contrast"]["only_target"][0]["evidence"][0]["path"].as_str().unwrap();
    assert!(ev.starts_with(&format!("{wave}/s-dcn37-com604-krw1a")), "{ev}");
    // The flapping peer's path came back: it ranks above the quiet one, below the sick node.
    assert_eq!(ranking[1], "node-08", "{ranking:?}");
    // Text: the same ranking, and the unreachable agent named.
    let o = rootline(&["fleet", "--agents", list.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Agents that did not answer (1 of 3)") && text.contains(&dead), "{text}");
    let o = rootline(&["fleet", "--agents", &dead]);
    assert_eq!(o.status.code(), Some(2), "no agent answered");
    let o = rootline(&["fleet", "--agents", &format!("http://{sick}"), "--format", "html"]);
    assert_eq!(o.status.code(), Some(2));
}
