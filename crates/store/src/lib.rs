//! The case database: every incident remembered, the past cases like a new one, and the manual that
//! grows with them.
//!
//! This crate owns what is kept of an incident once it is analysed ([`case`]: the top incident of a
//! `rootline.analysis/v1` document, or of a fleet comparison's target), where it is kept ([`sqlite`],
//! embedded and the default, or [`postgres`] for a team; both behind [`backend::Backend`], with
//! versioned migrations and one transaction per write), how cases are compared ([`features`],
//! [`similar`]: a score in [0, 1] with its reasons), and what is made of them: [`stats`], the JSON
//! lines of [`transfer`] (export and import), and the per-family analysis [`manual`]. It does not
//! analyse anything: the analysis comes from `rootline-correlate`, rule titles and advice from
//! `rootline-rules`.
//!
//! ```
//! use rootline_store::{case::Update, DbUrl, Store};
//! let dir = tempfile::tempdir().unwrap();
//! let url = DbUrl::parse(&format!("sqlite://{}/cases.db", dir.path().display())).unwrap();
//! assert!(Store::open(&url, false).unwrap().is_none(), "a read never creates a database");
//! let mut store = Store::open(&url, true).unwrap().unwrap();
//! assert_eq!(store.summaries().unwrap().len(), 0);
//! ```

pub mod backend;
pub mod case;
pub mod features;
pub mod manual;
pub mod postgres;
pub mod similar;
pub mod sqlite;
pub mod stats;
pub mod text;
pub mod transfer;
pub mod url;

use rootline_rules::Lang;

pub use backend::{Backend, Outcome, Summary};
pub use case::Case;
pub use url::{DbUrl, Origin};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A database address that cannot be used.
    #[error("{0}")]
    Url(String),
    /// The database refused or failed.
    #[error("case database {db}: {what}")]
    Db {
        /// The database, as shown to people.
        db: String,
        /// What went wrong.
        what: String,
    },
    /// A database written by a newer rootline.
    #[error(
        "case database {db} is at schema version {version}; this rootline knows versions up to {known}: use a newer rootline"
    )]
    TooNew {
        /// The database.
        db: String,
        /// Its version.
        version: u32,
        /// The latest this build knows.
        known: u32,
    },
    /// A stored document that does not read back.
    #[error("case database {db}: case {id}'s document is damaged: {why}")]
    Damaged {
        /// The database.
        db: String,
        /// The case.
        id: i64,
        /// Why it does not read.
        why: String,
    },
    /// Not an analysis or fleet document.
    #[error("not a rootline analysis or fleet document: {0}")]
    NotADocument(String),
    /// An analysis without an incident.
    #[error("no incident to remember: the analysis's verdict is {0}")]
    NoIncident(String),
}

/// Now, as stored (`2026-12-07T10:22:31Z`): when a case was added, when a migration ran. Nothing
/// computed from the cases depends on it.
pub fn now() -> String {
    let t = jiff::Timestamp::now();
    jiff::Timestamp::from_second(t.as_second()).unwrap_or(t).to_string()
}

/// An open case database.
pub struct Store {
    db: Box<dyn Backend>,
    url: DbUrl,
}

impl Store {
    /// Opens the database at `url`, bringing its schema up to date. A SQLite file that does not
    /// exist is created only with `create` (else `None`: commands that only read never create one).
    pub fn open(url: &DbUrl, create: bool) -> Result<Option<Store>, Error> {
        Store::open_at(url, create, None)
    }

    /// [`Store::open`], migrating only up to schema version `upto` (to build an old database).
    pub fn open_at(url: &DbUrl, create: bool, upto: Option<u32>) -> Result<Option<Store>, Error> {
        let db: Box<dyn Backend> = match url {
            DbUrl::Sqlite(p) => match sqlite::Sqlite::open(p, create, upto)? {
                Some(db) => Box::new(db),
                None => return Ok(None),
            },
            DbUrl::Postgres(u) => Box::new(postgres::Postgres::open(u, &url.display(), upto)?),
        };
        Ok(Some(Store { db, url: url.clone() }))
    }

    /// The database as shown to people (no password).
    pub fn name(&self) -> String {
        self.url.display()
    }

    /// The backend, for what this facade does not wrap.
    pub fn backend(&mut self) -> &mut dyn Backend {
        &mut *self.db
    }

    /// The schema version.
    pub fn version(&mut self) -> Result<u32, Error> {
        self.db.version()
    }

    /// Stores cases in one transaction (see [`Backend::write`]).
    pub fn write(&mut self, items: &[(Case, case::Update)]) -> Result<Vec<Outcome>, Error> {
        self.db.write(items)
    }

    /// Removes a case.
    pub fn remove(&mut self, id: i64) -> Result<bool, Error> {
        self.db.remove(id)
    }

    /// Every case's columns, by id.
    pub fn summaries(&mut self) -> Result<Vec<Summary>, Error> {
        self.db.summaries()
    }

    /// One case.
    pub fn get(&mut self, id: i64) -> Result<Option<Case>, Error> {
        Ok(self.db.cases(&[id])?.into_iter().next())
    }

    /// How many cases are stored.
    pub fn count(&mut self) -> Result<u64, Error> {
        self.db.count()
    }

    /// The cases most like `query` (see [`similar`]).
    pub fn similar(&mut self, query: &Case, opts: &similar::Options, lang: Lang) -> Result<similar::Found, Error> {
        similar::search(&mut *self.db, query, opts, lang)
    }

    /// Every case, by id, in pages (for export and the manual).
    pub fn each(&mut self, mut f: impl FnMut(Case) -> Result<(), Error>) -> Result<(), Error> {
        let mut after = 0;
        loop {
            let page = self.db.page(after, 1000)?;
            let Some(last) = page.last().and_then(|c| c.id) else { return Ok(()) };
            after = last;
            for c in page {
                f(c)?;
            }
        }
    }
}
