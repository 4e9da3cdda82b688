//! The postmortem end to end: snapshots of the seed bundle's Markdown and JSON in both languages, the
//! HTML opened in headless Chromium (screenshot, console errors, the timeline and graph SVGs, every
//! evidence anchor), `rootline report` on a saved analysis, and `--redact`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use super::support::{root, rootline, stdout};
use regex::Regex;
use serde_json::Value;

const SEED: &str = "examples/incidents/seed-37";
const CHROMIUM: &str = "/usr/bin/chromium";
const HOST: &str = "s-dcn37-com604-krw1a";

#[test]
fn seed_markdown_en() {
    insta::assert_snapshot!("seed37_md_en", stdout(&["analyze", SEED, "--format", "md", "--lang", "en"]));
}

#[test]
fn seed_markdown_ko() {
    insta::assert_snapshot!("seed37_md_ko", stdout(&["analyze", SEED, "--format", "md", "--lang", "ko"]));
}

#[test]
fn seed_json_en() {
    insta::assert_snapshot!("seed37_json_en", stdout(&["analyze", SEED, "--format", "json", "--lang", "en"]));
}

#[test]
fn seed_json_ko() {
    insta::assert_snapshot!("seed37_json_ko", stdout(&["analyze", SEED, "--format", "json", "--lang", "ko"]));
}

#[test]
fn lang_defaults_from_the_environment() {
    let out = crate::support::command()
        .current_dir(root())
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "ko_KR.UTF-8")
        .args(["analyze", SEED, "--format", "md"])
        .output()
        .expect("rootline runs");
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("## 1. 요약"), "{}", &md[..md.len().min(400)]);
}

#[test]
fn report_renders_a_saved_analysis_like_analyze_does() {
    let dir = tempfile::tempdir().unwrap();
    for lang in ["en", "ko"] {
        // The analysis carries sentences (the root cause's summary) in the language it was made in.
        let json = dir.path().join(format!("analysis.{lang}.json"));
        rootline(&["analyze", SEED, "--format", "json", "--lang", lang, "-o", json.to_str().unwrap()]);
        let direct = stdout(&["analyze", SEED, "--format", "md", "--lang", lang]);
        let saved = stdout(&["report", json.to_str().unwrap(), "--format", "md", "--lang", lang]);
        assert_eq!(direct, saved, "{lang}: a saved analysis renders the same report");
    }
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"schema":"something/else"}"#).unwrap();
    let out = crate::support::command().args(["report", bad.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rootline.analysis/v1"));
}

/// Every `#ev-N` reference has its anchor, and every anchor is an evidence row.
fn check_anchors(html: &str) -> usize {
    let refs: BTreeSet<String> =
        Regex::new(r##"href="#(ev-\d+)""##).unwrap().captures_iter(html).map(|c| c[1].to_string()).collect();
    let ids: BTreeSet<String> =
        Regex::new(r#"id="(ev-\d+)""#).unwrap().captures_iter(html).map(|c| c[1].to_string()).collect();
    assert!(!ids.is_empty(), "no evidence anchors");
    let missing: Vec<&String> = refs.difference(&ids).collect();
    assert!(missing.is_empty(), "references without an anchor: {missing:?}");
    ids.len()
}

fn chromium(args: &[&str], profile: &Path) -> Output {
    if !Path::new(CHROMIUM).exists() {
        panic!("{CHROMIUM} is missing: the HTML report test needs Debian's chromium (scripts/setup installs it)");
    }
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{CHROMIUM} could not start: {e}"));
    assert!(out.status.success(), "{CHROMIUM} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    out
}

/// Console messages (script errors, failed loads) that Chromium logs with `--enable-logging`.
fn console_errors(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught") || l.contains("net::ERR_"))
        .map(String::from)
        .collect()
}

#[test]
fn html_opens_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    for lang in ["en", "ko"] {
        let html_path = dir.path().join(format!("seed-37.{lang}.html"));
        rootline(&["analyze", SEED, "--format", "html", "--lang", lang, "-o", html_path.to_str().unwrap()]);
        let html = std::fs::read_to_string(&html_path).unwrap();
        // Self-contained: no external resource of any kind.
        for needle in ["<link ", "src=\"http", "href=\"http", "@import", "url(http"] {
            assert!(!html.contains(needle), "{lang}: external reference {needle:?}");
        }
        let url = format!("file://{}", html_path.display());
        let shot = dir.path().join(format!("seed-37.{lang}.png"));
        let out = chromium(
            &[&format!("--screenshot={}", shot.display()), "--window-size=1280,2000", &url],
            &dir.path().join(format!("profile-shot-{lang}")),
        );
        let errors = console_errors(&String::from_utf8_lossy(&out.stderr));
        assert!(errors.is_empty(), "{lang}: console errors: {errors:?}");
        let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{lang}: no screenshot {}: {e}", shot.display()));
        assert!(
            png.len() > 20_000 && png.starts_with(b"\x89PNG"),
            "{lang}: screenshot looks empty ({} bytes)",
            png.len()
        );

        let out = chromium(&["--dump-dom", &url], &dir.path().join(format!("profile-dom-{lang}")));
        let errors = console_errors(&String::from_utf8_lossy(&out.stderr));
        assert!(errors.is_empty(), "{lang}: console errors: {errors:?}");
        let dom = String::from_utf8_lossy(&out.stdout);
        assert!(dom.contains(r#"id="timeline-chart""#), "{lang}: the timeline SVG is missing from the DOM");
        assert!(dom.contains(r#"id="chain-graph""#), "{lang}: the causal graph SVG is missing from the DOM");
        let anchors = check_anchors(&dom);
        // Every evidence line of the analysis has its anchor.
        let a: Value = serde_json::from_str(&stdout(&["analyze", SEED, "--format", "json"])).unwrap();
        let mut lines: BTreeSet<(String, u64)> = BTreeSet::new();
        for f in a["findings"].as_array().unwrap() {
            for e in f["evidence"].as_array().unwrap() {
                lines.insert((e["path"].as_str().unwrap().to_string(), e["line"].as_u64().unwrap()));
            }
        }
        assert!(anchors >= lines.len(), "{lang}: {anchors} anchors for {} finding lines", lines.len());
        assert!(dom.contains("<details"), "{lang}: collapsible evidence");
        assert!(dom.contains("@media print"), "{lang}: print styles");
    }
}

#[test]
fn redact_leaves_no_host_name_ip_or_secret() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("analysis.json");
    rootline(&["analyze", SEED, "--format", "json", "-o", json.to_str().unwrap()]);
    // The seed has no address or secret in a cited line: plant some in the saved analysis.
    let mut a: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let planted = format!(
        "{HOST}.krw1a.local connect to 10.20.0.15:6789 from fe80::1 password=hunter2 X-Auth-Token: gAAAAABsecret"
    );
    a["findings"][0]["evidence"][0]["text"] = Value::String(planted);
    let planted_json = dir.path().join("planted.json");
    std::fs::write(&planted_json, serde_json::to_string(&a).unwrap()).unwrap();

    let ipv4 = Regex::new(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b").unwrap();
    let mut outputs = Vec::new();
    for lang in ["en", "ko"] {
        for format in ["md", "html"] {
            outputs.push((
                format!("report {format} {lang}"),
                stdout(&["report", planted_json.to_str().unwrap(), "--format", format, "--lang", lang, "--redact"]),
            ));
            outputs.push((
                format!("analyze {format} {lang}"),
                stdout(&["analyze", SEED, "--format", format, "--lang", lang, "--redact"]),
            ));
        }
    }
    outputs.push(("analyze json".into(), stdout(&["analyze", SEED, "--format", "json", "--redact"])));
    for (what, out) in &outputs {
        for gone in
            [HOST, "s-dcn37", "10.20.0.15", "fe80::1", "hunter2", "gAAAAABsecret", "4f2f8a10", "instance-00000a3f"]
        {
            assert!(!out.contains(gone), "{what}: {gone:?} survived redaction");
        }
        let ips: Vec<&str> = ipv4.find_iter(out).map(|m| m.as_str()).collect();
        assert!(ips.is_empty(), "{what}: addresses survived: {ips:?}");
        assert!(out.contains("host-1"), "{what}: the host pseudonym is missing");
        if what.contains("html") {
            check_anchors(out);
        }
    }
    // Stable: the same input gives the same pseudonyms.
    assert_eq!(outputs[1].1, stdout(&["analyze", SEED, "--format", "md", "--lang", "en", "--redact"]));
}

/// The LUN ids written in a bundle's files: multipath's WWIDs (`3` + 16 or 32 hex digits) and the
/// kernel's sysfs `naa.` ids, as their hex digits (the part every form of one id shares).
fn lun_ids(dir: &Path) -> BTreeSet<String> {
    let re = Regex::new(r"(?i)\b(?:3|naa\.)((?:[0-9a-f]{32}|[0-9a-f]{16}))\b").unwrap();
    let mut ids = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if let Ok(text) = std::fs::read(&p) {
            for c in re.captures_iter(&String::from_utf8_lossy(&text)) {
                if !c[1].bytes().all(|b| b.is_ascii_digit()) {
                    ids.insert(c[1].to_ascii_lowercase());
                }
            }
        }
    }
    ids
}

/// `--redact` replaces multipath WWIDs and sysfs NAA ids in every output format of every example
/// bundle that has them, with one pseudonym per LUN across entities, alias edges and evidence lines;
/// the HTML's evidence links still resolve.
#[test]
fn redact_replaces_lun_ids_in_every_format() {
    let mut checked = 0;
    let pseudonym = Regex::new(r"^wwid-\d+$").unwrap();
    for bundle in ["seed-37", "lab-offline-queue", "lab-offline-npr10"] {
        let dir = root().join("examples/incidents").join(bundle);
        let ids = lun_ids(&dir);
        assert!(!ids.is_empty(), "{bundle} names its LUNs");
        let path = format!("examples/incidents/{bundle}");
        let plain = stdout(&["analyze", &path, "--format", "json"]).to_ascii_lowercase();
        let shown: Vec<&String> = ids.iter().filter(|id| plain.contains(id.as_str())).collect();
        assert!(!shown.is_empty(), "{bundle}: the analysis cites a LUN id, so there is something to redact");
        for format in ["text", "json", "md", "html"] {
            let out = stdout(&["analyze", &path, "--format", format, "--lang", "en", "--redact"]);
            let lower = out.to_ascii_lowercase();
            for id in &ids {
                assert!(!lower.contains(id.as_str()), "{bundle} {format}: {id} survived --redact");
            }
            assert!(out.contains("wwid-1"), "{bundle} {format}: no LUN pseudonym");
            if format == "html" {
                check_anchors(&out);
            }
            checked += 1;
        }
        // One pseudonym per LUN: what the alias graph calls the map's WWID is what its lines show.
        let doc: Value = serde_json::from_str(&stdout(&["analyze", &path, "--format", "json", "--redact"])).unwrap();
        let text = doc.to_string();
        let mut wwids = BTreeSet::new();
        for h in doc["aliases"].as_array().unwrap() {
            for e in h["edges"].as_array().unwrap() {
                for end in ["a", "b"] {
                    if e[end]["kind"] == "wwid" {
                        wwids.insert(e[end]["value"].as_str().unwrap().to_string());
                    }
                }
            }
        }
        for w in &wwids {
            assert!(pseudonym.is_match(w), "{bundle}: alias node {w}");
            assert!(text.matches(w.as_str()).count() > 1, "{bundle}: {w} appears in the alias graph only");
        }
    }
    assert_eq!(checked, 12);
}

/// iSCSI target and initiator names, NVMe NQNs, FC port names and disk serial numbers planted in a
/// saved analysis's evidence are gone from `report --redact` in both formats, and one target keeps
/// one pseudonym whether written alone or in a by-path link.
#[test]
fn redact_replaces_iqns_nqns_wwpns_and_serials() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("analysis.json");
    rootline(&["analyze", SEED, "--format", "json", "-o", json.to_str().unwrap()]);
    let mut a: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let planted = [
        "iscsiadm: Login to [iface: default, target: iqn.2010-10.org.openstack:volume-4f2f8a10-6c3e-4b7d-9e21-0a5b7c9d1e32, portal: 10.20.0.15,3260] successful.",
        "InitiatorName=iqn.1994-05.com.redhat:5e1f9b2c7d3a",
        "/dev/disk/by-path/ip-10.20.0.15:3260-iscsi-iqn.2010-10.org.openstack:volume-4f2f8a10-6c3e-4b7d-9e21-0a5b7c9d1e32-lun-1",
        "nvme nvme1: new ctrl: NQN \"nqn.1992-08.com.netapp:sn.8c1f2e3d4b5a69788796a5b4c3d2e1f0:subsystem.k8s\", addr 10.20.0.16:4420",
        "lpfc 0000:3b:00.0: 0:1305 Link Up Event x1 received Data: rport WWPN 0x500a09818d4c6e5f",
        "E: ID_SERIAL=3600a098038303053453f463045535a74 E: ID_SCSI_SERIAL=80TSEZt$F0ESZ",
    ];
    let ev = a["findings"][0]["evidence"].as_array_mut().unwrap();
    for (i, p) in planted.iter().enumerate() {
        let mut e = ev[0].clone();
        e["text"] = Value::String(p.to_string());
        e["line"] = Value::from(9000 + i as u64);
        ev.push(e);
    }
    let planted_json = dir.path().join("planted.json");
    std::fs::write(&planted_json, serde_json::to_string(&a).unwrap()).unwrap();
    for format in ["md", "html"] {
        let out = stdout(&["report", planted_json.to_str().unwrap(), "--format", format, "--lang", "en", "--redact"]);
        for gone in ["iqn.", "5e1f9b2c7d3a", "4f2f8a10", "nqn.1992", "8c1f2e3d4b5a", "500a0981", "600a0980", "80TSEZt"]
        {
            assert!(!out.contains(gone), "report {format}: {gone} survived --redact");
        }
        assert!(
            out.contains("target: iqn-1") && out.contains("-iscsi-iqn-1-lun-1"),
            "report {format}: one target, one name"
        );
        assert!(out.contains("InitiatorName=iqn-2"), "report {format}");
        assert!(out.contains("nqn-1") && out.contains("wwn-1") && out.contains("serial-1"), "report {format}");
        if format == "html" {
            check_anchors(&out);
        }
    }
}
