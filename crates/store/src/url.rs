//! Where the case database is: `--db URL`, else `ROOTLINE_DB`, else the default SQLite file.
//!
//! - `sqlite:///var/lib/rootline/cases.db`, `sqlite:cases.db` or a plain path: a SQLite file;
//! - `postgres://user@host:5432/db` or `postgresql://...` (a Unix socket directory as a
//!   percent-encoded host: `postgres://rootline@%2Frun%2Fpostgresql/rootline`): PostgreSQL;
//! - neither given: `$XDG_DATA_HOME/rootline/cases.db`, `$XDG_DATA_HOME` defaulting to
//!   `$HOME/.local/share` (the XDG Base Directory specification).
//!
//! See: XDG Base Directory Specification 0.8, "$XDG_DATA_HOME defines the base directory relative to
//! which user-specific data files should be stored. If $XDG_DATA_HOME is either not set or empty, a
//! default equal to $HOME/.local/share should be used"; and it must be an absolute path (a relative
//! one "is invalid and should be ignored").

use std::path::PathBuf;

use crate::Error;

/// The environment variable naming the database when `--db` is not given.
pub const ENV: &str = "ROOTLINE_DB";

/// A case database's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

/// Where the address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--db`.
    Option,
    /// `ROOTLINE_DB`.
    Env,
    /// The default file.
    Default,
}

impl DbUrl {
    /// Parses an address.
    pub fn parse(s: &str) -> Result<DbUrl, Error> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::Url("the database address is empty".into()));
        }
        if let Some(rest) = s.strip_prefix("sqlite:") {
            // `sqlite:///abs` (an empty authority) and `sqlite:rel` both name a path.
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(Error::Url(format!("{s}: no file named; write sqlite:///path/to/cases.db")));
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(s.to_string()));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(Error::Url(format!(
                "{scheme}://: not a known database; write sqlite:///path/to/cases.db or postgres://user@host/db"
            )));
        }
        Ok(DbUrl::Sqlite(PathBuf::from(s)))
    }

    /// The address to use: `option` (`--db`), else `ROOTLINE_DB`, else the default file.
    pub fn resolve(option: Option<&str>) -> Result<(DbUrl, Origin), Error> {
        if let Some(o) = option {
            return Ok((DbUrl::parse(o)?, Origin::Option));
        }
        if let Some(v) = std::env::var_os(ENV).filter(|v| !v.is_empty()) {
            let v = v.to_str().ok_or_else(|| Error::Url(format!("{ENV} is not UTF-8")))?.to_string();
            return Ok((DbUrl::parse(&v)?, Origin::Env));
        }
        match default_path() {
            Some(p) => Ok((DbUrl::Sqlite(p), Origin::Default)),
            None => Err(Error::Url(format!(
                "no case database: neither XDG_DATA_HOME nor HOME is set; give --db sqlite:///path/to/cases.db or set {ENV}"
            ))),
        }
    }

    /// The address as shown to people: a PostgreSQL password is replaced by `***`.
    pub fn display(&self) -> String {
        match self {
            DbUrl::Sqlite(p) => p.display().to_string(),
            DbUrl::Postgres(u) => hide_password(u),
        }
    }
}

/// `$XDG_DATA_HOME/rootline/cases.db`, with `$XDG_DATA_HOME` defaulting to `$HOME/.local/share`.
pub fn default_path() -> Option<PathBuf> {
    let abs = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    let base = std::env::var_os("XDG_DATA_HOME")
        .and_then(abs)
        .or_else(|| std::env::var_os("HOME").and_then(abs).map(|h| h.join(".local/share")))?;
    Some(base.join("rootline").join("cases.db"))
}

/// A connection URL with its password (between `user:` and `@`) replaced by `***`.
fn hide_password(u: &str) -> String {
    let Some((scheme, rest)) = u.split_once("://") else { return u.to_string() };
    let (auth, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let auth = match auth.rfind('@') {
        Some(at) => {
            let (userinfo, host) = auth.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***{host}"),
                None => auth.to_string(),
            }
        }
        None => auth.to_string(),
    };
    format!("{scheme}://{auth}{}", hide_query_password(tail))
}

fn hide_query_password(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else { return tail.to_string() };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| if kv.starts_with("password=") { "password=***".to_string() } else { kv.to_string() })
        .collect();
    format!("{path}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(DbUrl::parse("sqlite:///tmp/c.db").unwrap(), DbUrl::Sqlite("/tmp/c.db".into()));
        assert_eq!(DbUrl::parse("sqlite:c.db").unwrap(), DbUrl::Sqlite("c.db".into()));
        assert_eq!(DbUrl::parse("/var/c.db").unwrap(), DbUrl::Sqlite("/var/c.db".into()));
        assert!(matches!(DbUrl::parse("postgresql://u@h/db").unwrap(), DbUrl::Postgres(_)));
        assert!(DbUrl::parse("mysql://h/db").unwrap_err().to_string().contains("not a known database"));
        assert!(DbUrl::parse("sqlite://").is_err());
        assert!(DbUrl::parse(" ").is_err());
    }

    #[test]
    fn passwords_are_never_shown() {
        let show = |u: &str| DbUrl::parse(u).unwrap().display();
        assert_eq!(show("postgres://ops:s3cret@db.example:5432/cases"), "postgres://ops:***@db.example:5432/cases");
        assert_eq!(show("postgres://ops@%2Frun%2Fpostgresql/cases"), "postgres://ops@%2Frun%2Fpostgresql/cases");
        assert_eq!(show("postgres://h/cases?user=a&password=x"), "postgres://h/cases?user=a&password=***");
        assert_eq!(show("postgres://a:b@h"), "postgres://a:***@h");
    }
}
