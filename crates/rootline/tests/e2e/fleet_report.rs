//! `rootline fleet --format md|html`: the target's postmortem with its "Why only this node" section,
//! in both languages, every evidence link of the section resolving to a row of the evidence index; the
//! same document as `rootline report` on the fleet's analysis; and no such section without peers.

use super::support::{root, rootline, stdout};
use regex::Regex;
use serde_json::Value;

const FLEET: &str = "examples/fleets/upgrade-wave";
const SEED: &str = "examples/incidents/seed-37";
const HOST: &str = "s-dcn37-com604-krw1a";

/// The Markdown of one section: from its anchor to the next one.
fn section<'a>(md: &'a str, anchor: &str) -> &'a str {
    let start = md.find(&format!("<a id=\"{anchor}\"></a>")).unwrap_or_else(|| panic!("no section {anchor}"));
    let rest = &md[start + 1..];
    let end = rest.find("\n<a id=\"").map_or(md.len(), |e| start + 1 + e);
    &md[start..end]
}

/// The appendix row of evidence line `n` (`| <a id="ev-n"></a>En | line | time | text | supports |`).
fn row(md: &str, n: usize) -> Option<&str> {
    let anchor = format!("<a id=\"ev-{n}\"></a>E{n} |");
    md.lines().find(|l| l.starts_with("| ") && l.contains(&anchor))
}

/// Checks the section of a fleet report in one language.
fn check(md: &str, heading: &str, seen: &str, scope: &str) {
    assert!(md.contains(&format!("## 7. {heading}")), "the section follows the cause analysis");
    assert!(md.contains(&format!("[{heading}](#peers)")), "listed in the contents");
    let overview = section(md, "overview");
    assert!(overview.contains(scope), "{overview}");
    let s = section(md, "peers");
    let refs = Regex::new(r"\[E(\d+)\]\(#ev-(\d+)\)").unwrap();
    let mut checked = 0;
    for c in refs.captures_iter(s) {
        assert_eq!(c[1], c[2], "{}", &c[0]);
        let n: usize = c[1].parse().unwrap();
        assert!(row(md, n).is_some(), "E{n} of the section has no row in the evidence index");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} evidence links in the section");
    // The stale map: seen on 1 of 8 nodes, linked to the line that shows it.
    let stale = s.lines().find(|l| l.contains("(`multipath.stale-map`)")).expect("the stale-map signature listed");
    assert!(stale.contains(seen), "{stale}");
    let n: usize = refs.captures(stale).expect("the stale-map line cites evidence")[1].parse().unwrap();
    let r = row(md, n).unwrap();
    assert!(r.contains("mpathb") && r.contains("multipath.stale-map"), "{r}");
    // Shared by every node, differences as hypotheses, the lowered candidate.
    assert!(s.contains("(`upgrade.image-changed`)") && s.contains("8"), "{s}");
    assert!(s.lines().any(|l| l.contains("kernel 5.15.0-124-generic") && l.starts_with("- **[")), "{s}");
    assert!(s.contains("`multipath.path-down#5`"), "{s}");
    assert!(!md.contains("no peer nodes were given") && !md.contains("peer node가 주어지지 않"));
}

#[test]
fn the_fleet_report_explains_why_only_this_node_in_english() {
    let md = stdout(&["fleet", FLEET, "--format", "md", "--lang", "en"]);
    check(&md, "Why only this node", "seen on 1 of 8 nodes", "1 of 8 nodes compared showed the root cause");
    let s = section(&md, "peers");
    assert!(s.contains("### What every node shared (not the cause)"), "{s}");
    assert!(s.contains(&format!("`{HOST}` was compared with its 7 peers")), "{s}");
    assert!(s.contains("Window: 10/13 17:51:10 to 10/13 21:27:40"), "{s}");
}

#[test]
fn the_fleet_report_explains_why_only_this_node_in_korean() {
    let md = stdout(&["fleet", FLEET, "--format", "md", "--lang", "ko"]);
    check(&md, "왜 이 node에서만 발생했는가", "8대 중 1대에서 관찰", "비교한 node 8대 중 1대에서 근본 원인");
    let s = section(&md, "peers");
    assert!(s.contains("### 모든 node에 공통 (원인 아님)"), "{s}");
    assert!(s.contains("**[가설]**"), "{s}");
}

#[test]
fn the_fleet_report_is_the_report_of_the_fleet_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let v: Value = serde_json::from_str(&stdout(&["fleet", FLEET, "--json", "--lang", "en"])).unwrap();
    let json = dir.path().join("analysis.json");
    std::fs::write(&json, serde_json::to_string(&v["analysis"]).unwrap()).unwrap();
    let html = dir.path().join("fleet.html");
    rootline(&["fleet", FLEET, "--format", "html", "--lang", "en", "-o", html.to_str().unwrap()]);
    let direct = std::fs::read_to_string(&html).unwrap();
    let saved = stdout(&["report", json.to_str().unwrap(), "--format", "html", "--lang", "en"]);
    assert_eq!(direct, saved, "one way to render");
    assert!(direct.contains(r#"<section id="peers"><h2><span class="num">7.</span>Why only this node</h2>"#));
    assert!(direct.contains(r##"<a href="#peers">Why only this node</a>"##));
    let md = stdout(&["fleet", FLEET, "--format", "md", "--lang", "en"]);
    assert_eq!(md, stdout(&["report", json.to_str().unwrap(), "--format", "md", "--lang", "en"]));
    let out = crate::support::command().current_dir(root()).args(["fleet", FLEET, "--report", "pdf"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_report_without_peers_has_no_such_section() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("analysis.json");
    rootline(&["analyze", SEED, "--format", "json", "--lang", "en", "-o", json.to_str().unwrap()]);
    let md = stdout(&["report", json.to_str().unwrap(), "--format", "md", "--lang", "en"]);
    assert!(!md.contains("Why only this node") && !md.contains("id=\"peers\""));
    assert!(md.contains("## 7. Classification") && md.contains("no peer nodes were given"));
    let ko = stdout(&["report", json.to_str().unwrap(), "--format", "html", "--lang", "ko"]);
    assert!(!ko.contains("왜 이 node에서만") && !ko.contains(r#"id="peers""#));
}
