//! The same checks on both databases: SQLite in a temporary file, and a real PostgreSQL server
//! started for the test by `scripts/pg-scratch` (Debian's server package; as root it runs as
//! `nobody`) on a Unix socket in a temporary directory, stopped when the test ends. Without the
//! server binaries the PostgreSQL test fails and says how to install them.

use std::path::{Path, PathBuf};
use std::process::Command;

use rootline_rules::{Lang, Pack};
use rootline_store::case::Update;
use rootline_store::similar::Options;
use rootline_store::{Case, DbUrl, Error, Outcome, Store};
use serde_json::{json, Value};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scratch PostgreSQL server, stopped when dropped.
struct Pg {
    dir: tempfile::TempDir,
    url: String,
}

impl Pg {
    fn start() -> Pg {
        let dir = tempfile::Builder::new().prefix("rootline-pg-").tempdir().unwrap();
        let o = Command::new(workspace().join("scripts/pg-scratch"))
            .arg("start")
            .arg(dir.path())
            .output()
            .expect("scripts/pg-scratch runs");
        assert!(
            o.status.success(),
            "could not start a scratch PostgreSQL server for the test:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let url = String::from_utf8(o.stdout).unwrap().trim().to_string();
        Pg { dir, url }
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = Command::new(workspace().join("scripts/pg-scratch")).arg("stop").arg(self.dir.path()).status();
    }
}

/// An analysis document of one incident: `root` with `chain` (cause, effect) pairs, on `host`.
fn analysis(
    host: &str,
    start: &str,
    root: &str,
    chain: &[(&str, &str)],
    kinds: &[&str],
    templates: &[&str],
    changes: &[&str],
) -> Value {
    let mut sigs: Vec<&str> = chain.iter().flat_map(|(a, b)| [*a, *b]).collect();
    sigs.push(root);
    sigs.sort();
    sigs.dedup();
    let ents: serde_json::Map<String, Value> = kinds.iter().map(|k| (k.to_string(), json!(["x"]))).collect();
    json!({
        "schema": "rootline.analysis/v1",
        "verdict": "root_cause_found",
        "findings": [{"id": format!("{root}#1"), "entities": ents}],
        "incidents": [{
            "host": host, "start": start, "end": start,
            "root_cause": {"finding": format!("{root}#1"), "signature": root, "entities": {}, "confidence": 0.8,
                           "summary": format!("{root} on {host}"),
                           "evidence": [{"path": "messages", "line": 1, "time": start, "text": format!("{root} {host}")}]},
            "chain": chain.iter().map(|(a, b)| json!({"cause_signature": a, "effect_signature": b})).collect::<Vec<_>>(),
            "findings": [format!("{root}#1")],
            "context": changes.iter().map(|c| json!({"signature": c, "summary": c, "before_first_fault_secs": 600.0})).collect::<Vec<_>>(),
            "fingerprint": {"signatures": sigs, "templates": templates}
        }]
    })
}

fn stale_map(host: &str, start: &str) -> Value {
    analysis(
        host,
        start,
        "multipath.stale-map",
        &[
            ("multipath.path-down", "multipath.all-paths-down"),
            ("multipath.all-paths-down", "multipath.stale-map"),
            ("multipath.stale-map", "kernel.hung-task"),
            ("kernel.hung-task", "k8s.probe-failed"),
        ],
        &["map", "dm", "pod"],
        &["t-remaining-paths", "t-hung-task", "t-probe"],
        &["upgrade.image-changed"],
    )
}

fn probe_only(host: &str, start: &str) -> Value {
    analysis(
        host,
        start,
        "k8s.probe-failed",
        &[("k8s.probe-failed", "k8s.container-restarted")],
        &["pod", "container"],
        &["t-probe", "t-restart"],
        &[],
    )
}

fn case(pack: &Pack, doc: &Value) -> Case {
    Case::from_document(doc, Some("test"), Some(pack)).unwrap()
}

fn add(store: &mut Store, c: Case, u: Update) -> Outcome {
    store.write(&[(c, u)]).unwrap()[0]
}

/// Adds, re-adds, updates, searches, removes; rolls a failed batch back.
fn conformance(url: &DbUrl, raw: &mut dyn FnMut(&str)) {
    let pack = Pack::builtin().unwrap();
    let mut store = Store::open(url, true).unwrap().expect("created");
    assert_eq!(store.version().unwrap(), 2);
    let a = case(&pack, &stale_map("node37", "2025-10-13T19:51:40+09:00"));
    let b = case(&pack, &probe_only("node12", "2025-11-02T08:00:00Z"));
    let c = case(&pack, &stale_map("node40", "2025-12-01T03:00:00Z"));
    let ida = add(&mut store, a.clone(), Update::default()).id();
    assert!(matches!(add(&mut store, b.clone(), Update::default()), Outcome::Added(_)));
    // The same analysis again: no second case.
    assert_eq!(add(&mut store, a.clone(), Update::default()), Outcome::Unchanged(ida));
    let fix = Update { resolution: Some("multipathd restart, then reboot".into()), ..Default::default() };
    assert_eq!(add(&mut store, a.clone(), fix.clone()), Outcome::Updated(ida));
    assert_eq!(add(&mut store, a.clone(), fix), Outcome::Unchanged(ida));
    assert_eq!(store.count().unwrap(), 2);
    let got = store.get(ida).unwrap().unwrap();
    assert_eq!(got.resolution.as_deref(), Some("multipathd restart, then reboot"));
    assert_eq!(got.chain, a.chain);

    // A new stale map on another node finds the old one first, with its reasons and resolution.
    let found = store.similar(&c, &Options { top: 5, min_score: 0.0, ..Options::default() }, Lang::En).unwrap();
    let m = &found.similar.matches;
    assert_eq!(m.len(), 2, "{m:?}");
    assert_eq!(m[0].case, ida);
    assert!(m[0].score > 0.9 && m[1].score < 0.5, "{m:?}");
    assert!(m[0].reasons[0].starts_with("same root cause: multipath.stale-map"), "{:?}", m[0].reasons);
    assert!(m[0].reasons.iter().any(|r| r.starts_with("chain: 4 of 4 cause -> effect pairs")), "{:?}", m[0].reasons);
    assert!(m[0].reasons.iter().any(|r| r.starts_with("both came after changes on the host: upgrade.image-changed")));
    assert_eq!(m[0].resolution.as_deref(), Some("multipathd restart, then reboot"));
    assert!(!m[1].reasons.iter().any(|r| r.contains("same root cause")), "{:?}", m[1].reasons);
    let strict = store.similar(&c, &Options::default(), Lang::En).unwrap();
    assert_eq!(strict.similar.matches.len(), 1, "the probe case is below the default minimum");

    // A batch that fails half-way adds nothing.
    raw("boom");
    let mut bad = case(&pack, &stale_map("node50", "2025-12-02T03:00:00Z"));
    bad.title = "boom".into();
    let ok = case(&pack, &stale_map("node51", "2025-12-03T03:00:00Z"));
    let e = store.write(&[(ok, Update::default()), (bad, Update::default())]).unwrap_err();
    assert!(e.to_string().contains("boom"), "{e}");
    assert_eq!(store.count().unwrap(), 2, "nothing of the failed batch is stored");

    // Removing a case takes it out of the index too.
    let df_before = store.backend().df(&rootline_store::features::Features::of(&a).keys()).unwrap();
    assert!(store.remove(ida).unwrap());
    assert!(!store.remove(ida).unwrap());
    let found = store.similar(&c, &Options { top: 5, min_score: 0.0, ..Options::default() }, Lang::En).unwrap();
    assert!(found.similar.matches.iter().all(|m| m.case != ida));
    let df_after = store.backend().df(&rootline_store::features::Features::of(&a).keys()).unwrap();
    let root = rootline_store::features::hash(rootline_store::features::Group::Root, "multipath.stale-map") as i64;
    assert_eq!(df_before.get(&root), Some(&1));
    assert_eq!(df_after.get(&root), None, "no stored case has that root cause any more");
    assert!(df_after.len() < df_before.len());
}

/// A database written by the first schema (cases only, no index) is brought up to date on opening:
/// the index is built from the stored documents, and the search finds them.
fn migrates_an_old_schema(url: &DbUrl, insert_v1: &mut dyn FnMut(&Case)) {
    let pack = Pack::builtin().unwrap();
    let store = Store::open_at(url, true, Some(1)).unwrap().unwrap();
    drop(store);
    let mut a = case(&pack, &stale_map("node37", "2025-10-13T19:51:40+09:00"));
    a.resolution = Some("reboot".into());
    insert_v1(&a);
    let mut store = Store::open(url, false).unwrap().unwrap();
    assert_eq!(store.version().unwrap(), 2);
    let q = case(&pack, &stale_map("node99", "2026-01-01T00:00:00Z"));
    let found = store.similar(&q, &Options::default(), Lang::En).unwrap();
    assert_eq!(found.similar.matches.len(), 1);
    assert_eq!(found.similar.matches[0].resolution.as_deref(), Some("reboot"));
    // And the migrated database takes new cases as any other.
    assert!(matches!(add(&mut store, q, Update::default()), Outcome::Added(_)));
    assert_eq!(store.count().unwrap(), 2);
}

fn v1_insert_sql(c: &Case) -> (String, Vec<String>) {
    let mut doc = c.clone();
    doc.id = None;
    (
        "INSERT INTO rootline_cases (key, title, resolution, host, start, family, signature, verdict, confidence, doc)"
            .into(),
        vec![
            c.key.clone(),
            c.title.clone(),
            c.resolution.clone().unwrap_or_default(),
            c.host.clone().unwrap_or_default(),
            c.start.clone().unwrap_or_default(),
            c.root_cause.family.clone(),
            c.root_cause.signature.clone(),
            c.verdict.clone(),
            serde_json::to_string(&doc).unwrap(),
        ],
    )
}

#[test]
fn sqlite_backend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/cases.db");
    let url = DbUrl::Sqlite(path.clone());
    assert!(Store::open(&url, false).unwrap().is_none(), "reading never creates");
    assert!(!path.exists());
    let p = path.clone();
    conformance(&url, &mut |title| {
        let conn = rusqlite::Connection::open(&p).unwrap();
        conn.execute_batch(&format!(
            "CREATE TRIGGER boom BEFORE INSERT ON rootline_cases WHEN NEW.title = '{title}'
             BEGIN SELECT RAISE(ABORT, 'boom: refused by a test trigger'); END;"
        ))
        .unwrap();
    });

    let old = DbUrl::Sqlite(dir.path().join("old.db"));
    let op = dir.path().join("old.db");
    migrates_an_old_schema(&old, &mut |c| {
        let conn = rusqlite::Connection::open(&op).unwrap();
        let (sql, v) = v1_insert_sql(c);
        conn.execute(
            &format!("{sql} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0.8, ?9)"),
            rusqlite::params_from_iter(v.iter()),
        )
        .unwrap();
    });

    // A database from a newer rootline is refused, not damaged.
    let conn = rusqlite::Connection::open(&op).unwrap();
    conn.execute("INSERT INTO rootline_schema (version, description, applied) VALUES (9, 'future', 'x')", []).unwrap();
    drop(conn);
    match Store::open(&old, false) {
        Err(Error::TooNew { version: 9, known: 2, .. }) => {}
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
    // A file that is not a database says so.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
    let e = Store::open(&DbUrl::Sqlite(junk), false).err().expect("not a database").to_string();
    assert!(e.contains("not a database"), "{e}");
}

/// The URL of another database on the same server.
fn other_db(url: &str, db: &str) -> String {
    format!("{}/{db}", url.strip_suffix("/postgres").expect("the scratch URL ends in /postgres"))
}

#[test]
fn postgres_backend() {
    let pg = Pg::start();
    let url = DbUrl::parse(&pg.url).unwrap();
    let raw_url = pg.url.clone();
    conformance(&url, &mut |title| {
        let mut c = postgres::Client::connect(&raw_url, postgres::NoTls).unwrap();
        c.batch_execute(&format!(
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.title = '{title}' THEN RAISE EXCEPTION 'boom: refused by a test trigger'; END IF;
             RETURN NEW; END $$;
             CREATE TRIGGER boom BEFORE INSERT ON rootline_cases FOR EACH ROW EXECUTE FUNCTION boom();"
        ))
        .unwrap();
    });

    // The old schema in a database of its own on the same server.
    let mut admin = postgres::Client::connect(&pg.url, postgres::NoTls).unwrap();
    admin.batch_execute("CREATE DATABASE old").unwrap();
    let old_url = other_db(&pg.url, "old");
    let old = DbUrl::parse(&old_url).unwrap();
    let ou = old_url.clone();
    migrates_an_old_schema(&old, &mut |c| {
        let mut conn = postgres::Client::connect(&ou, postgres::NoTls).unwrap();
        let (sql, v) = v1_insert_sql(c);
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = v.iter().map(|s| s as _).collect();
        conn.execute(&format!("{sql} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0.8, $9)"), &params).unwrap();
    });
    let mut conn = postgres::Client::connect(&old_url, postgres::NoTls).unwrap();
    conn.batch_execute("INSERT INTO rootline_schema (version, description, applied) VALUES (9, 'future', 'x')")
        .unwrap();
    match Store::open(&old, false) {
        Err(Error::TooNew { version: 9, known: 2, .. }) => {}
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
    // A database that does not exist is named in the error, with no password shown.
    let e = Store::open(&DbUrl::parse(&other_db(&pg.url, "nosuch")).unwrap(), false)
        .err()
        .expect("no such database")
        .to_string();
    assert!(e.contains("nosuch") && e.contains("does not exist"), "{e}");

    admin.batch_execute("CREATE DATABASE bounds").unwrap();
    the_search_bounds_keep_the_best_match(&DbUrl::parse(&other_db(&pg.url, "bounds")).unwrap());
}

/// On a database smaller than the search's bounds, the bounded search is the exhaustive one; with
/// tiny bounds (a common feature read in part) it still finds the case that shares the query's
/// rarest features, not the latest cases of the common one.
fn the_search_bounds_keep_the_best_match(url: &DbUrl) {
    let pack = Pack::builtin().unwrap();
    let mut store = Store::open(url, true).unwrap().unwrap();
    let roots = [
        "multipath.stale-map",
        "multipath.all-paths-down",
        "kernel.hung-task",
        "k8s.probe-failed",
        "iscsi.session-failed",
    ];
    let mut items = Vec::new();
    for i in 0..300 {
        let root = roots[i % roots.len()];
        let effect = roots[(i / 5) % roots.len()];
        let chain: Vec<(&str, &str)> = if effect == root { vec![] } else { vec![(root, effect)] };
        let (t1, t2) = (format!("t-{}", i % 30), format!("u-{i}"));
        let doc = analysis(
            &format!("node{i}"),
            "2025-10-13T00:00:00Z",
            root,
            &chain,
            &["map", "pod"],
            &["t-common", &t1, &t2],
            &[],
        );
        items.push((case(&pack, &doc), Update::default()));
    }
    store.write(&items).unwrap();
    // The twin of the 8th case, on another host.
    let q = {
        let root = roots[7 % roots.len()];
        let effect = roots[(7 / 5) % roots.len()];
        let doc = analysis(
            "elsewhere",
            "2026-01-01T00:00:00Z",
            root,
            &[(root, effect)],
            &["map", "pod"],
            &["t-common", "t-7", "u-7"],
            &[],
        );
        case(&pack, &doc)
    };
    let opts = Options { top: 10, min_score: 0.0, ..Options::default() };
    let bounded = store.similar(&q, &opts, Lang::En).unwrap().similar.matches;
    let all = store.similar(&q, &opts.exhaustive(), Lang::En).unwrap().similar.matches;
    let ids = |m: &[rootline_correlate::PastCase]| m.iter().map(|x| (x.case, x.score.to_bits())).collect::<Vec<_>>();
    assert_eq!(ids(&bounded), ids(&all));
    assert_eq!(all[0].case, 8);
    assert_eq!(all[0].score, 1.0);
    let tiny = Options { budget: 20, candidates: 5, ..opts };
    let found = store.similar(&q, &tiny, Lang::En).unwrap();
    assert!(found.entries <= 20 && found.scored <= 5, "{} entries, {} scored", found.entries, found.scored);
    assert_eq!(found.similar.matches[0].case, 8);
}

#[test]
fn search_bounds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    the_search_bounds_keep_the_best_match(&DbUrl::Sqlite(dir.path().join("cases.db")));
}
