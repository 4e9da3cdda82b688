//! `rootline cases` and "seen before", end to end, on the example bundles: a SQLite database in a
//! temporary directory (never the user's: `XDG_DATA_HOME` is a temporary directory too), and a real
//! PostgreSQL server that `scripts/pg-scratch` starts on a Unix socket in a temporary directory and
//! stops when the test ends. Without the server binaries the PostgreSQL test fails and says how to
//! install them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::support::root;

const SEED: &str = "examples/incidents/seed-37";
const QUEUE: &str = "examples/incidents/lab-offline-queue";
const NPR10: &str = "examples/incidents/lab-offline-npr10";
const FAR: &str = "examples/incidents/unrelated-far-apart";
/// The seed node as one of the fleet example's nodes: the same incident in other files.
const SEED_NODE: &str = "examples/fleets/upgrade-wave/s-dcn37-com604-krw1a";
const FIX: &str = "multipathd restart flushed dm-31; reboot for dm-21, held open by qemu";

/// A place of its own: the data directory rootline sees, and a database URL in it.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env { dir: tempfile::tempdir().unwrap() }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn db(&self) -> String {
        format!("sqlite://{}", self.path("db/cases.db").display())
    }
    /// `rootline ARGS` with this directory as `XDG_DATA_HOME` (and no `ROOTLINE_DB`).
    fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }
    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = super::support::command();
        c.current_dir(root())
            .env("XDG_DATA_HOME", self.path("xdg"))
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C.UTF-8")
            .env("TZ", "UTC")
            .args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("rootline runs")
    }
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert_eq!(o.status.code(), Some(0), "rootline {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    }
    /// `rootline cases --db DB ARGS`.
    fn cases(&self, db: &str, args: &[&str]) -> String {
        let mut a = vec!["cases", "--db", db];
        a.extend(args);
        self.ok(&a)
    }
    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }
    /// `analyze BUNDLE --format json -o FILE`, returning FILE.
    fn saved(&self, bundle: &str, name: &str, extra: &[&str]) -> String {
        let out = self.path(name).display().to_string();
        let mut a = vec!["analyze", bundle, "--format", "json", "-o", &out];
        a.extend(extra);
        self.ok(&a);
        out
    }
}

fn matches(doc: &Value) -> &Vec<Value> {
    doc["matches"].as_array().expect("matches")
}

fn reasons(m: &Value) -> Vec<String> {
    m["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()
}

/// The seed, the two lab outages and the far-apart hung task, stored; the seed with its resolution.
fn populated(e: &Env, db: &str) -> String {
    let seed = e.saved(SEED, "seed.json", &[]);
    let out = e.cases(db, &["add", &seed, "--resolution", FIX, "--fixed-by", "storage on-call"]);
    assert!(out.starts_with("added case #1: Stale multipath map"), "{out}");
    assert!(e.cases(db, &["add", QUEUE]).starts_with("added case #2: "));
    assert!(e.cases(db, &["add", FAR]).starts_with("added case #3: "));
    seed
}

/// Similar incidents rank above dissimilar ones, each with the reasons of its score; the JSON is
/// `rootline.similar/v1` with exactly the fields the issue gives.
#[test]
fn similar_cases_rank_first_with_their_reasons() {
    let e = Env::new();
    let db = e.db();
    populated(&e, &db);
    // The seed incident again, read from other files (the fleet example's copy of the node).
    let doc: Value =
        serde_json::from_str(&e.cases(&db, &["similar", SEED_NODE, "--json", "--min-score", "0"])).unwrap();
    let keys: BTreeSet<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["schema", "matches"]));
    assert_eq!(doc["schema"], "rootline.similar/v1");
    let m = matches(&doc);
    for x in m {
        let keys: BTreeSet<&str> = x.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["case", "title", "score", "reasons", "resolution"]));
    }
    let order: Vec<i64> = m.iter().map(|x| x["case"].as_i64().unwrap()).collect();
    assert_eq!(order[0], 1, "the seed case first: {doc:#}");
    assert!(m[0]["score"].as_f64().unwrap() > 0.9, "{doc:#}");
    assert_eq!(m[0]["resolution"], FIX);
    let r = reasons(&m[0]);
    // The seed's node is the stored incident itself: said first, as no recurrence.
    assert!(r[0].starts_with("this very incident, already stored as this case"), "{r:?}");
    assert_eq!(r[1], "same root cause: multipath.stale-map (+0.30)");
    assert!(r.iter().any(|x| x.starts_with("chain: ") && x.contains("multipath.stale-map -> ")), "{r:?}");
    assert!(
        r.iter().any(|x| x.starts_with("both came after changes on the host: ") && x.contains("k8s.image-pulled")),
        "{r:?}"
    );
    // The lab outage shares the family and part of the chain; the lone hung task shares almost nothing.
    let pos = |id: i64| order.iter().position(|&x| x == id);
    assert!(pos(2) > pos(1), "{order:?}");
    assert!(pos(3).is_none_or(|p| p > pos(2).unwrap()), "{order:?}");
    let lab = &m[pos(2).unwrap()];
    assert!(lab["score"].as_f64().unwrap() < 0.5, "{lab}");
    assert!(
        reasons(lab)[0].starts_with("same family (multipath), another root cause: multipath.all-paths-down"),
        "{lab}"
    );
    assert!(lab["resolution"].is_null());
    // The other lab outage (all paths down, queueing) finds its twin before the seed.
    let doc: Value = serde_json::from_str(&e.cases(&db, &["similar", NPR10, "--json"])).unwrap();
    let m = matches(&doc);
    assert_eq!(m[0]["case"], 2, "{doc:#}");
    assert_eq!(reasons(&m[0])[0], "same root cause: multipath.all-paths-down (+0.30)");
    assert!(m.iter().all(|x| !reasons(x).iter().any(|r| r.starts_with("this very incident"))), "{doc:#}");
    assert!(m.iter().all(|x| x["case"] != 3), "the hung task is below the default minimum: {doc:#}");
    // --top, and the text output.
    let doc: Value = serde_json::from_str(&e.cases(&db, &["similar", NPR10, "--json", "--top", "1"])).unwrap();
    assert_eq!(matches(&doc).len(), 1);
    let text = e.cases(&db, &["similar", SEED_NODE]);
    assert!(text.starts_with("3 cases stored, "), "{text}");
    assert!(text.contains(&format!("resolution: {FIX}")), "{text}");
    // Korean reasons.
    let ko = e.cases(&db, &["similar", SEED_NODE, "--lang", "ko"]);
    assert!(ko.contains("같은 근본 원인: multipath.stale-map (+0.30)"), "{ko}");
}

/// Copies a bundle, keeping each file's modification time (year-less lines take their year from it).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
            let mtime = std::fs::metadata(&src).unwrap().modified().unwrap();
            std::fs::File::options().write(true).open(&dst).unwrap().set_modified(mtime).unwrap();
        }
    }
}

/// The same incident is one case, whether added from a saved analysis, from the evidence in
/// another directory, in Korean, or twice; a resolution given later updates it.
#[test]
fn adding_the_same_incident_again_changes_nothing() {
    let e = Env::new();
    let db = e.db();
    let seed = e.saved(SEED, "seed.json", &[]);
    assert!(e.cases(&db, &["add", &seed]).starts_with("added case #1"));
    let moved = e.path("elsewhere/seed");
    copy_tree(&root().join(SEED), &moved);
    let ko = e.saved(moved.to_str().unwrap(), "seed-ko.json", &["--lang", "ko"]);
    for again in [seed.as_str(), moved.to_str().unwrap(), ko.as_str()] {
        let out = e.cases(&db, &["add", again]);
        assert!(out.starts_with("case #1 is already stored (the same incident); nothing changed"), "{again}: {out}");
    }
    let out = e.cases(&db, &["add", &seed, "--resolution", FIX, "--json"]);
    let line: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((line["id"].as_i64(), line["status"].as_str()), (Some(1), Some("updated")));
    let list: Vec<Value> =
        e.cases(&db, &["list", "--json"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["resolution"], FIX);
    assert_eq!(list[0]["signature"], "multipath.stale-map");
    // A saved analysis and evidence are not mixed; an analysis without an incident is refused.
    let o = e.run(&["cases", "--db", &db, "add", &seed, QUEUE]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not both"));
    let o = e.run(&["cases", "--db", &db, "add", "examples/incidents/healthy-noise"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no incident to remember"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(e.cases(&db, &["list", "--json"]).lines().count(), 1);
}

/// `analyze` shows "seen before" only with a case database, in every format, and never creates one.
#[test]
fn analyze_shows_seen_before_only_with_a_database() {
    let e = Env::new();
    let default_db = e.path("xdg/rootline/cases.db");
    let plain = e.ok(&["analyze", SEED_NODE]);
    assert!(!plain.contains("Seen before"), "{plain}");
    assert!(!e.path("xdg").exists(), "analyze created a case database");
    // A named database that does not exist: a warning, the analysis, no database.
    let missing = format!("sqlite://{}", e.path("none/cases.db").display());
    let o = e.run(&["analyze", SEED_NODE, "--db", &missing]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no case database at"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!e.path("none").exists());
    // A --db that is no database address is a bad option.
    let o = e.run(&["analyze", SEED_NODE, "--db", "mysql://db.example/cases"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a known database") && o.stdout.is_empty(), "{err}");

    // The default database (XDG_DATA_HOME/rootline/cases.db) is used once it exists.
    let db = format!("sqlite://{}", default_db.display());
    populated(&e, &db);
    let text = e.ok(&["analyze", SEED_NODE]);
    let at = text.find("Seen before (similar past cases").expect("the section");
    assert!(text[at..].contains("#1     1.00  Stale multipath map"), "{}", &text[at..]);
    assert!(text[at..].contains(&format!("resolution: {FIX}")));
    let doc = e.json(&["analyze", SEED_NODE, "--format", "json"]);
    assert_eq!(doc["seen_before"]["schema"], "rootline.similar/v1");
    assert_eq!(doc["seen_before"]["matches"][0]["case"], 1);
    let md = e.ok(&["analyze", SEED_NODE, "--format", "md"]);
    assert!(md.contains("2. [Seen before](#seen)") && md.contains("## 2. Seen before"), "{md}");
    assert!(md.contains(&format!("**Resolution**: {}", FIX.replace('_', "\\_"))), "{md}");
    assert!(md.contains("## 3. Analysis by phase"), "the sections after it move down by one");
    let ko = e.ok(&["analyze", SEED_NODE, "--format", "md", "--lang", "ko"]);
    assert!(ko.contains("이전에 본 적 있는 장애"), "{ko}");
    let html = e.ok(&["analyze", SEED_NODE, "--format", "html"]);
    assert!(html.contains(r#"<section id="seen">"#) && html.contains("same root cause: multipath.stale-map"));
    // A saved analysis rendered later keeps the section.
    let saved = e.path("with-seen.json");
    std::fs::write(&saved, serde_json::to_string(&doc).unwrap()).unwrap();
    assert_eq!(e.ok(&["report", saved.to_str().unwrap()]), md);
    // --redact leaves other incidents out; an explicit --db elsewhere wins over the default.
    assert!(!e.ok(&["analyze", SEED_NODE, "--redact"]).contains("Seen before"));
    let other = Env::new();
    let o = e.run(&["analyze", SEED_NODE, "--db", &other.db()]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("Seen before"));
    // ROOTLINE_DB names the database as --db does.
    let o = other.run_env(&["analyze", SEED_NODE], &[("ROOTLINE_DB", &db)]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Seen before"));
}

/// Export and import move cases between databases; one bad line imports nothing and is named.
#[test]
fn a_bad_import_line_adds_nothing_and_is_named() {
    let e = Env::new();
    let db = e.db();
    populated(&e, &db);
    let export = e.cases(&db, &["export"]);
    assert_eq!(export.lines().count(), 3);
    let other = format!("sqlite://{}", e.path("other/cases.db").display());
    let bad = e.path("bad.jsonl");
    let mut lines: Vec<&str> = export.lines().collect();
    lines.insert(2, r#"{"schema":"rootline.case/v1","title":"no root cause"}"#);
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let o = e.run(&["cases", "--db", &other, "import", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 3: not a case document: missing field") && err.contains("nothing was imported"),
        "{err}"
    );
    assert!(!e.path("other").exists(), "the database was not even created");
    // The good export, twice: the second time every case is already there.
    let good = e.path("good.jsonl");
    std::fs::write(&good, &export).unwrap();
    let out = e.cases(&other, &["import", good.to_str().unwrap()]);
    assert!(out.contains("3 cases, 3 added, 0 already stored"), "{out}");
    let out = e.cases(&other, &["import", good.to_str().unwrap()]);
    assert!(out.contains("3 cases, 0 added, 3 already stored"), "{out}");
    let keys = |s: &str| -> BTreeSet<String> {
        s.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["key"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(keys(&e.cases(&other, &["export"])), keys(&export));
    // The imported case still carries what fixed it, and is found.
    let doc: Value = serde_json::from_str(&e.cases(&other, &["similar", SEED_NODE, "--json"])).unwrap();
    assert_eq!(matches(&doc)[0]["resolution"], FIX);
}

/// Statistics count by family, month and recurrence; the manual grows with the cases.
#[test]
fn stats_and_the_manual_come_from_the_cases() {
    let e = Env::new();
    let db = e.db();
    populated(&e, &db);
    let npr = e.saved(NPR10, "npr10.json", &[]);
    e.cases(&db, &["add", &npr, "--resolution", "paths restored on the array; multipathd reinstated them"]);
    let st: Value = serde_json::from_str(&e.cases(&db, &["stats", "--json"])).unwrap();
    assert_eq!(st["schema"], "rootline.case-stats/v1");
    assert_eq!((st["cases"].as_u64(), st["resolved"].as_u64()), (Some(4), Some(2)));
    assert_eq!(st["families"][0]["family"], "multipath");
    assert_eq!(st["families"][0]["cases"], 3);
    let months: Vec<(&str, u64)> = st["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["month"].as_str().unwrap(), m["cases"].as_u64().unwrap()))
        .collect();
    assert_eq!(months, [("2025-10", 2), ("2026-11", 2)]);
    assert_eq!(st["recurring"][0]["signature"], "multipath.all-paths-down");
    assert_eq!((st["recurring"][0]["cases"].as_u64(), st["recurring"][0]["hosts"].as_u64()), (Some(2), Some(1)));
    assert_eq!(st["hosts"][0]["host"], "db-node01");
    let text = e.cases(&db, &["stats"]);
    assert!(text.contains("multipath.all-paths-down: 2 cases on 1 host,"), "{text}");

    let dir = e.path("manual");
    e.cases(&db, &["manual", "-o", dir.to_str().unwrap()]);
    let en = std::fs::read_to_string(dir.join("en/multipath.md")).unwrap();
    assert!(en.contains("3 cases (2025-10-13 .. 2026-11-28), 2 with a resolution"), "{en}");
    assert!(en.contains(&format!("- {FIX} (latest case #1:")), "{en}");
    assert!(en.contains("Cases with this root cause: #4, #2"), "{en}");
    assert!(en.contains("| `multipath.all-paths-down` | `kernel.hung-task` | 3 / 3 |"), "{en}");
    let ko = std::fs::read_to_string(dir.join("ko/multipath.md")).unwrap();
    assert!(ko.contains("# multipath: 분석 매뉴얼") && ko.contains("case 3개"), "{ko}");
    let index = std::fs::read_to_string(dir.join("en/README.md")).unwrap();
    assert!(index.contains("| [multipath](multipath.md) |") && index.contains("| [iscsi](iscsi.md) |"), "{index}");
    // A family without cases still has its page, from the rules alone.
    let iscsi = std::fs::read_to_string(dir.join("en/iscsi.md")).unwrap();
    assert!(iscsi.contains("No stored case has its root cause in this family yet"), "{iscsi}");
}

/// A fleet comparison becomes a case with its ranking; `show` says where the node ranked.
#[test]
fn a_fleet_comparison_adds_its_ranking_to_the_case() {
    let e = Env::new();
    let db = e.db();
    let fleet = e.path("fleet.json");
    e.ok(&["fleet", "examples/fleets/upgrade-wave", "--json", "-o", fleet.to_str().unwrap()]);
    let out = e.cases(&db, &["add", fleet.to_str().unwrap(), "--json"]);
    let id = serde_json::from_str::<Value>(out.trim()).unwrap()["id"].as_i64().unwrap();
    let c: Value = serde_json::from_str(&e.cases(&db, &["show", &id.to_string(), "--json"])).unwrap();
    assert_eq!(c["schema"], "rootline.case/v1");
    assert_eq!(c["fleet"]["nodes"], 8);
    assert_eq!(c["fleet"]["target"], "s-dcn37-com604-krw1a");
    assert_eq!(c["fleet"]["rank"], 1);
    assert!(c["fleet"]["only_here"].as_array().unwrap().iter().any(|s| s == "multipath.stale-map"), "{c:#}");
    let text = e.cases(&db, &["show", &format!("#{id}")]);
    assert!(text.contains("Fleet comparison: s-dcn37-com604-krw1a explained, ranked 1 of 8"), "{text}");
    // The same node's analysis alone is the same incident: the case keeps its ranking.
    let node = e.saved(SEED_NODE, "node.json", &[]);
    assert!(e.cases(&db, &["add", &node]).contains("already stored"));
    let o = e.run(&["cases", "--db", &db, "show", "99"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no case #99"));
}

/// A scratch PostgreSQL server (`scripts/pg-scratch`), stopped when dropped.
struct Pg {
    dir: tempfile::TempDir,
    url: String,
}

impl Pg {
    fn start() -> Pg {
        let dir = tempfile::Builder::new().prefix("rootline-pg-").tempdir().unwrap();
        let o = Command::new(root().join("scripts/pg-scratch")).arg("start").arg(dir.path()).output().unwrap();
        assert!(
            o.status.success(),
            "could not start a scratch PostgreSQL server for the test:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        Pg { url: String::from_utf8(o.stdout).unwrap().trim().to_string(), dir }
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/pg-scratch")).arg("stop").arg(self.dir.path()).status();
    }
}

/// The same commands against a real PostgreSQL server, and cases moved from SQLite to it.
#[test]
fn postgres_end_to_end() {
    let pg = Pg::start();
    let e = Env::new();
    let lite = e.db();
    populated(&e, &lite);
    let url = pg.url.as_str();
    let seed = e.path("seed.json").display().to_string();
    assert!(e.cases(url, &["add", &seed, "--resolution", FIX]).starts_with("added case #1"));
    assert!(e.cases(url, &["add", &seed]).contains("already stored"));
    assert!(e.cases(url, &["add", QUEUE]).starts_with("added case #2"));
    let doc: Value =
        serde_json::from_str(&e.cases(url, &["similar", SEED_NODE, "--json", "--min-score", "0"])).unwrap();
    let m = matches(&doc);
    assert_eq!((m[0]["case"].as_i64(), m[1]["case"].as_i64()), (Some(1), Some(2)));
    assert_eq!(reasons(&m[0])[1], "same root cause: multipath.stale-map (+0.30)");
    // From SQLite into PostgreSQL: the two cases already there are recognised.
    let export = e.path("lite.jsonl");
    e.cases(&lite, &["export", "-o", export.to_str().unwrap()]);
    let out = e.cases(url, &["import", export.to_str().unwrap()]);
    assert!(out.contains("3 cases, 1 added, 2 already stored"), "{out}");
    let o = e.run_env(&["analyze", SEED_NODE, "--format", "json"], &[("ROOTLINE_DB", url)]);
    let a: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(a["seen_before"]["matches"][0]["resolution"], FIX);
    let st: Value = serde_json::from_str(&e.cases(url, &["stats", "--json"])).unwrap();
    assert_eq!(st["cases"], 3);
    // A server that is not there: exit 2, the address without any password.
    let base = url.strip_suffix("/postgres").expect("the scratch URL ends in /postgres");
    let gone = format!("{}/nosuch", base.replacen("postgres@", "postgres:hunter2@", 1));
    let o = e.run(&["cases", "--db", &gone, "list"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("does not exist") && !err.contains("hunter2"), "{err}");
}
