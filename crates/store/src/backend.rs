//! What a database must do for the case store, and what the two databases share: the migrations'
//! list, the rows read back, and the bookkeeping of a write.
//!
//! Both backends ([`crate::sqlite`], [`crate::postgres`]) keep the same tables (prefixed
//! `rootline_`, so a team's PostgreSQL database can hold them beside other applications' tables):
//!
//! - `rootline_schema (version, description, applied)`: one row per migration applied;
//! - `rootline_cases`: one row per case, its `rootline.case/v1` document in `doc` and, as columns,
//!   what listing and statistics read (id, key, title, resolution, fixed_by, added, host, start,
//!   family, signature, verdict, confidence), and since version 2 its feature blob `shape`;
//! - `rootline_features (f, case_id)`, primary key `(f, case_id)`: the inverted index, one row per
//!   feature hash of each case (version 2);
//! - `rootline_feature_df (f, n)`: how many cases have each feature (version 2), so a search can
//!   start from the rarest of its features without counting.
//!
//! Every write (an add, an import, a removal, a migration) is one transaction.

use std::collections::HashMap;

use crate::case::{Case, Update};
use crate::features::Features;
use crate::Error;

/// The migrations, in order: (version, what it does). Each backend has the SQL of each.
pub const MIGRATIONS: &[(u32, &str)] = &[
    (1, "cases: one row per case with its document and the columns listing and statistics read"),
    (2, "similarity index: feature hashes per case, their case counts, each case's feature blob"),
];

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// What became of one case given to a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stored as a new case with this id.
    Added(i64),
    /// Already stored under this id; nothing changed.
    Unchanged(i64),
    /// Already stored under this id; its title, resolution, fixed-by or fleet ranking changed.
    Updated(i64),
}

impl Outcome {
    /// The case's id.
    pub fn id(self) -> i64 {
        match self {
            Outcome::Added(i) | Outcome::Unchanged(i) | Outcome::Updated(i) => i,
        }
    }

    /// `added`, `unchanged` or `updated`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Added(_) => "added",
            Outcome::Unchanged(_) => "unchanged",
            Outcome::Updated(_) => "updated",
        }
    }
}

/// The columns of one case: what `list` and `stats` read.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Its id.
    pub id: i64,
    /// Its content key.
    pub key: String,
    /// Title.
    pub title: String,
    /// Its incident's host.
    pub host: Option<String>,
    /// Its incident's first finding's time.
    pub start: Option<String>,
    /// The root cause's family.
    pub family: String,
    /// The root cause's signature.
    pub signature: String,
    /// The analysis's verdict.
    pub verdict: String,
    /// The root cause's confidence.
    pub confidence: f64,
    /// What resolved it.
    pub resolution: Option<String>,
    /// Who fixed it.
    pub fixed_by: Option<String>,
    /// When it was stored.
    pub added: Option<String>,
}

/// What a backend does.
pub trait Backend {
    /// The schema version the database is at (after the migrations ran on opening).
    fn version(&mut self) -> Result<u32, Error>;
    /// Stores cases in one transaction: a new key is inserted with its features; a stored key gets
    /// its [`Update`]. One outcome per item, in order.
    fn write(&mut self, items: &[(Case, Update)]) -> Result<Vec<Outcome>, Error>;
    /// Removes a case and its features; false when there was none.
    fn remove(&mut self, id: i64) -> Result<bool, Error>;
    /// Every case's columns, by id.
    fn summaries(&mut self) -> Result<Vec<Summary>, Error>;
    /// The documents of these cases (those that exist), by id.
    fn cases(&mut self, ids: &[i64]) -> Result<Vec<Case>, Error>;
    /// Up to `limit` documents with ids above `after`, by id.
    fn page(&mut self, after: i64, limit: usize) -> Result<Vec<Case>, Error>;
    /// How many cases are stored.
    fn count(&mut self) -> Result<u64, Error>;
    /// How many cases have each of these features (absent: none).
    fn df(&mut self, features: &[i64]) -> Result<HashMap<i64, u64>, Error>;
    /// The (feature, case) entries of the index for every feature of `full`, and for `partial`'s
    /// feature its latest (highest id) cases up to its limit. One round trip where the database
    /// allows it: a search reads tens of features.
    fn postings(&mut self, full: &[i64], partial: Option<(i64, usize)>) -> Result<Vec<(i64, i64)>, Error>;
    /// The feature blobs of these cases.
    fn shapes(&mut self, ids: &[i64]) -> Result<Vec<(i64, Vec<u8>)>, Error>;
}

/// A write's plan for a batch, before any SQL: the same key twice in one batch is one case (the
/// later item updates the earlier), and each new case's features.
pub(crate) struct Batch<'a> {
    /// Distinct keys in first-seen order: (the first item's case, its features, the updates of every
    /// item with that key, in order).
    pub items: Vec<(&'a Case, Features, Vec<&'a Update>)>,
    /// For each input item, its index in `items`.
    pub slot: Vec<usize>,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(items: &'a [(Case, Update)]) -> Batch<'a> {
        let mut by_key: HashMap<&str, usize> = HashMap::new();
        let mut out: Vec<(&Case, Features, Vec<&Update>)> = Vec::new();
        let mut slot = Vec::with_capacity(items.len());
        for (c, u) in items {
            match by_key.get(c.key.as_str()) {
                Some(&i) => {
                    out[i].2.push(u);
                    slot.push(i);
                }
                None => {
                    by_key.insert(&c.key, out.len());
                    slot.push(out.len());
                    out.push((c, Features::of(c), vec![u]));
                }
            }
        }
        Batch { items: out, slot }
    }

    /// The case to insert for item `i`: the first, with the updates of its key applied.
    pub(crate) fn merged(&self, i: usize) -> Case {
        let (c, _, ups) = &self.items[i];
        let mut c = (*c).clone();
        for u in ups {
            if let Some(n) = u.apply(&c) {
                c = n;
            }
        }
        c
    }

    /// The outcome of each input item, from each distinct key's: the first item of a new key is
    /// `Added`, the items after it in the same batch are `Unchanged` (they were merged into it).
    pub(crate) fn outcomes(&self, per_key: &[Outcome]) -> Vec<Outcome> {
        let mut seen = vec![false; per_key.len()];
        self.slot
            .iter()
            .map(|&i| {
                let o = per_key[i];
                if std::mem::replace(&mut seen[i], true) {
                    Outcome::Unchanged(o.id())
                } else {
                    o
                }
            })
            .collect()
    }
}

/// A stored case's document with the authoritative columns laid over it.
pub(crate) fn overlay(
    mut c: Case,
    id: i64,
    key: String,
    title: String,
    resolution: Option<String>,
    fixed_by: Option<String>,
) -> Case {
    c.id = Some(id);
    c.key = key;
    c.title = title;
    c.resolution = resolution;
    c.fixed_by = fixed_by;
    c
}

/// The document as stored: without its id (the row's), everything else as given.
pub(crate) fn doc_text(c: &Case) -> String {
    let mut c = c.clone();
    c.id = None;
    serde_json::to_string(&c).expect("a case always serialises")
}

/// Reads a stored document back.
pub(crate) fn parse_doc(db: &str, id: i64, text: &str) -> Result<Case, Error> {
    serde_json::from_str(text).map_err(|e| Error::Damaged { db: db.to_string(), id, why: e.to_string() })
}
