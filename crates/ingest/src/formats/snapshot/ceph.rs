//! Ceph: `ceph -s` (one record per `key: value` line of a section, details attached), `ceph health
//! detail` (one record per HEALTH line or check), `rbd status` (one record per watcher).
//!
//! See: Ceph "Monitoring a cluster" (`ceph -s`, `ceph health detail`), `rbd(8)` (`status`).

use super::{trim, words};

/// What a line of `ceph -s` is.
pub(crate) enum Status<'a> {
    /// A section name (`  cluster:`).
    Section,
    /// `key: value` -> key.
    Key(&'a [u8]),
    /// A detail line under the key before.
    Detail,
    Unknown,
}

/// Reads a line of `ceph -s`.
pub(crate) fn status(line: &[u8]) -> Status<'_> {
    let t = trim(line);
    let indent = line.len() - line.iter().skip_while(|c| **c == b' ').count();
    if t.is_empty() {
        return Status::Unknown;
    }
    if indent <= 2 && t.ends_with(b":") {
        return Status::Section;
    }
    if indent <= 4 {
        if let Some(c) = memchr::memchr(b':', t) {
            return Status::Key(&t[..c]);
        }
    }
    Status::Detail
}

/// A `ceph health detail` line: (`health` or `check`, value), `None` for an indented detail line.
pub(crate) fn health(line: &[u8]) -> Option<Option<(&'static str, &[u8])>> {
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return None;
    }
    let t = trim(line);
    if t.starts_with(b"HEALTH_") {
        let end = memchr::memchr(b' ', t).unwrap_or(t.len());
        return Some(Some(("health", &t[..end])));
    }
    let s = t.strip_prefix(b"[WRN] ").or_else(|| t.strip_prefix(b"[ERR] ")).unwrap_or(t);
    let end = s.iter().position(|c| *c == b':' || *c == b' ').unwrap_or(s.len());
    let check = &s[..end];
    let ok = !check.is_empty() && check.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_');
    Some(ok.then_some(("check", check)))
}

/// What a line of `rbd status` is.
pub(crate) enum Rbd<'a> {
    /// `Watchers:` alone.
    Header,
    /// `Watchers: none`.
    None,
    /// `watcher=10.0.0.37:0/1234 client.4567 cookie=1` -> (watcher, client).
    Watcher(&'a [u8], Option<&'a [u8]>),
}

/// Reads a line of `rbd status`.
pub(crate) fn rbd(line: &[u8]) -> Option<Rbd<'_>> {
    let t = trim(line);
    if t == b"Watchers:" {
        return Some(Rbd::Header);
    }
    if t.starts_with(b"Watchers:") {
        return Some(Rbd::None);
    }
    let rest = t.strip_prefix(b"watcher=")?;
    let w = words(rest);
    Some(Rbd::Watcher(w.first().map_or(rest, |x| x.1), w.get(1).map(|c| c.1)))
}

/// True when the line opens a Ceph output (for detection from the content).
pub(crate) fn kind_of_line(line: &[u8]) -> Option<super::Kind> {
    let t = trim(line);
    if line.starts_with(b"  cluster:") || t.starts_with(b"health: HEALTH_") {
        return Some(super::Kind::CephStatus);
    }
    if line.starts_with(b"HEALTH_OK")
        || line.starts_with(b"HEALTH_WARN")
        || line.starts_with(b"HEALTH_ERR")
        || line.starts_with(b"[WRN] ")
        || line.starts_with(b"[ERR] ")
    {
        return Some(super::Kind::CephHealth);
    }
    t.starts_with(b"Watchers:").then_some(super::Kind::Rbd)
}
