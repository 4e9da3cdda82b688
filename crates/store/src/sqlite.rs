//! The embedded backend: one SQLite file (the library is compiled in: no system package needed).
//!
//! Writers take the file's write lock at the start of their transaction (`BEGIN IMMEDIATE`) and wait
//! up to [`BUSY_TIMEOUT`] for another writer, so two `rootline cases add` at once both land.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::backend::{self, doc_text, overlay, parse_doc, Backend, Batch, Outcome, Summary, MIGRATIONS};
use crate::case::Case;
use crate::features::Features;
use crate::Error;

/// How long a writer waits for another one.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Rows per `IN (...)` list.
const CHUNK: usize = 500;

/// The SQL of each migration, by version (see [`MIGRATIONS`]).
const SQL: &[&str] = &[
    "CREATE TABLE rootline_cases (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        resolution TEXT,
        fixed_by TEXT,
        added TEXT,
        host TEXT,
        start TEXT,
        family TEXT NOT NULL,
        signature TEXT NOT NULL,
        verdict TEXT NOT NULL,
        confidence REAL NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX rootline_cases_signature ON rootline_cases (signature);",
    "ALTER TABLE rootline_cases ADD COLUMN shape BLOB;
    CREATE TABLE rootline_features (
        f INTEGER NOT NULL,
        case_id INTEGER NOT NULL,
        PRIMARY KEY (f, case_id)
    ) WITHOUT ROWID;
    CREATE TABLE rootline_feature_df (
        f INTEGER PRIMARY KEY,
        n INTEGER NOT NULL
    );",
];

/// A case database in one SQLite file.
pub struct Sqlite {
    conn: Connection,
    name: String,
}

fn err(name: &str) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::Db { db: name.to_string(), what: e.to_string() }
}

impl Sqlite {
    /// Opens the database at `path`; with `create`, creates it (and its directory) when missing,
    /// else answers `None` for a missing file. Brings the schema up to date, up to `upto` (the
    /// latest when `None`; tests build old schemas with it).
    pub fn open(path: &Path, create: bool, upto: Option<u32>) -> Result<Option<Sqlite>, Error> {
        let name = path.display().to_string();
        if !create && !path.exists() {
            return Ok(None);
        }
        if create {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| Error::Db {
                    db: name.clone(),
                    what: format!("cannot create {}: {e}", dir.display()),
                })?;
            }
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags).map_err(err(&name))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err(&name))?;
        let mut db = Sqlite { conn, name };
        db.migrate(upto.unwrap_or_else(backend::latest))?;
        Ok(Some(db))
    }

    /// The file's path as given.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(&self.name)
    }

    fn current(conn: &Connection, name: &str) -> Result<u32, Error> {
        let has: Option<String> = conn
            .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'rootline_schema'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err(name))?;
        if has.is_none() {
            return Ok(0);
        }
        conn.query_row("SELECT COALESCE(MAX(version), 0) FROM rootline_schema", [], |r| r.get(0)).map_err(err(name))
    }

    fn migrate(&mut self, upto: u32) -> Result<(), Error> {
        let name = self.name.clone();
        let latest = backend::latest();
        let v = Sqlite::current(&self.conn, &name)?;
        if v > latest {
            return Err(Error::TooNew { db: name, version: v, known: latest });
        }
        if v >= upto {
            return Ok(());
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err(&name))?;
        // Another process may have migrated while this one waited for the lock.
        let v = Sqlite::current(&tx, &name)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS rootline_schema (
                version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied TEXT NOT NULL)",
        )
        .map_err(err(&name))?;
        for &(version, description) in MIGRATIONS.iter().filter(|m| m.0 > v && m.0 <= upto) {
            tx.execute_batch(SQL[version as usize - 1])
                .map_err(|e| Error::Db { db: name.clone(), what: format!("migration {version}: {e}") })?;
            if version == 2 {
                backfill(&tx, &name)?;
            }
            tx.execute(
                "INSERT INTO rootline_schema (version, description, applied) VALUES (?1, ?2, ?3)",
                params![version, description, crate::now()],
            )
            .map_err(err(&name))?;
        }
        tx.commit().map_err(err(&name))
    }
}

/// Version 2: the feature index of the cases stored before it, from their documents.
fn backfill(tx: &rusqlite::Transaction, name: &str) -> Result<(), Error> {
    let rows: Vec<(i64, String)> = {
        let mut st = tx.prepare("SELECT id, doc FROM rootline_cases ORDER BY id").map_err(err(name))?;
        let it = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(err(name))?;
        it.collect::<Result<_, _>>().map_err(err(name))?
    };
    let mut df: HashMap<i64, i64> = HashMap::new();
    for (id, doc) in rows {
        let f = Features::of(&parse_doc(name, id, &doc)?);
        index(tx, name, id, &f, &mut df)?;
    }
    add_df(tx, name, &df)
}

/// Indexes one case: its features' rows, its blob, and the document-frequency changes.
fn index(
    tx: &rusqlite::Transaction,
    name: &str,
    id: i64,
    f: &Features,
    df: &mut HashMap<i64, i64>,
) -> Result<(), Error> {
    let mut ins = tx.prepare_cached("INSERT INTO rootline_features (f, case_id) VALUES (?1, ?2)").map_err(err(name))?;
    for k in f.keys() {
        ins.execute(params![k, id]).map_err(err(name))?;
        *df.entry(k).or_default() += 1;
    }
    tx.prepare_cached("UPDATE rootline_cases SET shape = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id, f.to_blob()]))
        .map_err(err(name))?;
    Ok(())
}

fn add_df(tx: &rusqlite::Transaction, name: &str, df: &HashMap<i64, i64>) -> Result<(), Error> {
    let mut up = tx
        .prepare_cached(
            "INSERT INTO rootline_feature_df (f, n) VALUES (?1, ?2)
             ON CONFLICT (f) DO UPDATE SET n = n + excluded.n",
        )
        .map_err(err(name))?;
    let mut keys: Vec<_> = df.iter().filter(|(_, n)| **n != 0).collect();
    keys.sort();
    for (k, n) in keys {
        up.execute(params![k, n]).map_err(err(name))?;
    }
    tx.execute("DELETE FROM rootline_feature_df WHERE n <= 0", []).map_err(err(name))?;
    Ok(())
}

fn summary(r: &rusqlite::Row) -> rusqlite::Result<Summary> {
    Ok(Summary {
        id: r.get(0)?,
        key: r.get(1)?,
        title: r.get(2)?,
        resolution: r.get(3)?,
        fixed_by: r.get(4)?,
        added: r.get(5)?,
        host: r.get(6)?,
        start: r.get(7)?,
        family: r.get(8)?,
        signature: r.get(9)?,
        verdict: r.get(10)?,
        confidence: r.get(11)?,
    })
}

const DOC_COLUMNS: &str = "id, key, title, resolution, fixed_by, doc";

type DocRow = (i64, String, String, Option<String>, Option<String>, String);

fn doc_row(r: &rusqlite::Row) -> rusqlite::Result<DocRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl Sqlite {
    fn docs(&self, rows: Vec<DocRow>) -> Result<Vec<Case>, Error> {
        rows.into_iter()
            .map(|(id, key, title, res, fix, doc)| {
                Ok(overlay(parse_doc(&self.name, id, &doc)?, id, key, title, res, fix))
            })
            .collect()
    }
}

impl Backend for Sqlite {
    fn version(&mut self) -> Result<u32, Error> {
        Sqlite::current(&self.conn, &self.name)
    }

    fn write(&mut self, items: &[(Case, crate::case::Update)]) -> Result<Vec<Outcome>, Error> {
        let name = self.name.clone();
        let batch = Batch::new(items);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err(&name))?;
        let mut per_key = Vec::with_capacity(batch.items.len());
        let mut df: HashMap<i64, i64> = HashMap::new();
        for (i, (case, features, ups)) in batch.items.iter().enumerate() {
            let existing: Option<DocRow> = tx
                .prepare_cached(&format!("SELECT {DOC_COLUMNS} FROM rootline_cases WHERE key = ?1"))
                .and_then(|mut s| s.query_row([&case.key], doc_row).optional())
                .map_err(err(&name))?;
            if let Some((id, key, title, res, fix, doc)) = existing {
                let stored = overlay(parse_doc(&name, id, &doc)?, id, key, title, res, fix);
                let mut cur = stored.clone();
                for u in ups {
                    if let Some(n) = u.apply(&cur) {
                        cur = n;
                    }
                }
                if cur == stored {
                    per_key.push(Outcome::Unchanged(id));
                } else {
                    tx.prepare_cached(
                        "UPDATE rootline_cases SET title = ?2, resolution = ?3, fixed_by = ?4, doc = ?5 WHERE id = ?1",
                    )
                    .and_then(|mut s| s.execute(params![id, cur.title, cur.resolution, cur.fixed_by, doc_text(&cur)]))
                    .map_err(err(&name))?;
                    per_key.push(Outcome::Updated(id));
                }
                continue;
            }
            let c = batch.merged(i);
            tx.prepare_cached(
                "INSERT INTO rootline_cases (key, title, resolution, fixed_by, added, host, start, family, signature,
                    verdict, confidence, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    c.key,
                    c.title,
                    c.resolution,
                    c.fixed_by,
                    c.added,
                    c.host,
                    c.start,
                    c.root_cause.family,
                    c.root_cause.signature,
                    c.verdict,
                    c.root_cause.confidence,
                    doc_text(&c)
                ])
            })
            .map_err(err(&name))?;
            let id = tx.last_insert_rowid();
            index(&tx, &name, id, features, &mut df)?;
            per_key.push(Outcome::Added(id));
        }
        add_df(&tx, &name, &df)?;
        tx.commit().map_err(err(&name))?;
        Ok(batch.outcomes(&per_key))
    }

    fn remove(&mut self, id: i64) -> Result<bool, Error> {
        let name = self.name.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err(&name))?;
        let row: Option<(Option<Vec<u8>>, String)> = tx
            .query_row("SELECT shape, doc FROM rootline_cases WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(err(&name))?;
        let Some((shape, doc)) = row else { return Ok(false) };
        let f = match shape.as_deref().and_then(Features::from_blob) {
            Some(f) => f,
            None => Features::of(&parse_doc(&name, id, &doc)?),
        };
        let mut df = HashMap::new();
        {
            let mut del =
                tx.prepare_cached("DELETE FROM rootline_features WHERE f = ?1 AND case_id = ?2").map_err(err(&name))?;
            for k in f.keys() {
                del.execute(params![k, id]).map_err(err(&name))?;
                df.insert(k, -1);
            }
        }
        add_df(&tx, &name, &df)?;
        tx.execute("DELETE FROM rootline_cases WHERE id = ?1", [id]).map_err(err(&name))?;
        tx.commit().map_err(err(&name))?;
        Ok(true)
    }

    fn summaries(&mut self) -> Result<Vec<Summary>, Error> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, key, title, resolution, fixed_by, added, host, start, family, signature, verdict,
                    confidence FROM rootline_cases ORDER BY id",
            )
            .map_err(err(&self.name))?;
        let it = st.query_map([], summary).map_err(err(&self.name))?;
        it.collect::<Result<_, _>>().map_err(err(&self.name))
    }

    fn cases(&mut self, ids: &[i64]) -> Result<Vec<Case>, Error> {
        let mut rows = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!("SELECT {DOC_COLUMNS} FROM rootline_cases WHERE id IN ({})", placeholders(chunk.len()));
            let mut st = self.conn.prepare(&sql).map_err(err(&self.name))?;
            let it = st.query_map(params_from_iter(chunk), doc_row).map_err(err(&self.name))?;
            for r in it {
                rows.push(r.map_err(err(&self.name))?);
            }
        }
        rows.sort_by_key(|r| r.0);
        self.docs(rows)
    }

    fn page(&mut self, after: i64, limit: usize) -> Result<Vec<Case>, Error> {
        let rows: Vec<DocRow> = {
            let mut st = self
                .conn
                .prepare_cached(&format!("SELECT {DOC_COLUMNS} FROM rootline_cases WHERE id > ?1 ORDER BY id LIMIT ?2"))
                .map_err(err(&self.name))?;
            let it = st.query_map(params![after, limit as i64], doc_row).map_err(err(&self.name))?;
            it.collect::<Result<_, _>>().map_err(err(&self.name))?
        };
        self.docs(rows)
    }

    fn count(&mut self) -> Result<u64, Error> {
        let n: i64 =
            self.conn.query_row("SELECT COUNT(*) FROM rootline_cases", [], |r| r.get(0)).map_err(err(&self.name))?;
        Ok(n.max(0) as u64)
    }

    fn df(&mut self, features: &[i64]) -> Result<HashMap<i64, u64>, Error> {
        let mut out = HashMap::new();
        for chunk in features.chunks(CHUNK) {
            let sql = format!("SELECT f, n FROM rootline_feature_df WHERE f IN ({})", placeholders(chunk.len()));
            let mut st = self.conn.prepare(&sql).map_err(err(&self.name))?;
            let it = st.query_map(params_from_iter(chunk), |r| Ok((r.get(0)?, r.get(1)?))).map_err(err(&self.name))?;
            for r in it {
                let (f, n): (i64, i64) = r.map_err(err(&self.name))?;
                out.insert(f, n.max(0) as u64);
            }
        }
        Ok(out)
    }

    fn postings(&mut self, full: &[i64], partial: Option<(i64, usize)>) -> Result<Vec<(i64, i64)>, Error> {
        let mut out = Vec::new();
        for chunk in full.chunks(CHUNK) {
            let sql = format!("SELECT f, case_id FROM rootline_features WHERE f IN ({})", placeholders(chunk.len()));
            let mut st = self.conn.prepare(&sql).map_err(err(&self.name))?;
            let it = st.query_map(params_from_iter(chunk), |r| Ok((r.get(0)?, r.get(1)?))).map_err(err(&self.name))?;
            for r in it {
                out.push(r.map_err(err(&self.name))?);
            }
        }
        if let Some((f, limit)) = partial {
            let mut st = self
                .conn
                .prepare_cached("SELECT f, case_id FROM rootline_features WHERE f = ?1 ORDER BY case_id DESC LIMIT ?2")
                .map_err(err(&self.name))?;
            let it = st.query_map(params![f, limit as i64], |r| Ok((r.get(0)?, r.get(1)?))).map_err(err(&self.name))?;
            for r in it {
                out.push(r.map_err(err(&self.name))?);
            }
        }
        Ok(out)
    }

    fn shapes(&mut self, ids: &[i64]) -> Result<Vec<(i64, Vec<u8>)>, Error> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT id, shape FROM rootline_cases WHERE id IN ({}) AND shape IS NOT NULL",
                placeholders(chunk.len())
            );
            let mut st = self.conn.prepare(&sql).map_err(err(&self.name))?;
            let it = st.query_map(params_from_iter(chunk), |r| Ok((r.get(0)?, r.get(1)?))).map_err(err(&self.name))?;
            for r in it {
                out.push(r.map_err(err(&self.name))?);
            }
        }
        Ok(out)
    }
}
