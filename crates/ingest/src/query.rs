//! Filters over the merged timeline (`--host`, `--since`, `--until`, `--grep`, `--source`).

use regex::bytes::Regex;
use rootline_event::EventRef;

/// A conjunction of filters; an empty query keeps everything.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Keep events of these hosts (exact names).
    pub hosts: Vec<String>,
    /// Keep events at or after this instant (nanoseconds since the epoch). Timeless events are dropped
    /// when a time bound is set.
    pub since: Option<i64>,
    /// Keep events before this instant (nanoseconds since the epoch).
    pub until: Option<i64>,
    /// Keep events whose message (with attached lines) matches.
    pub grep: Option<Regex>,
    /// Keep events whose format name or program equals, or whose path contains, one of these.
    pub sources: Vec<String>,
}

impl Query {
    /// True when `ev` (an `&Event` or an [`EventRef`]) passes every filter.
    pub fn matches<'a>(&self, ev: impl Into<EventRef<'a>>) -> bool {
        let ev = ev.into();
        if !self.hosts.is_empty() && !ev.host.is_some_and(|h| self.hosts.iter().any(|x| **x == **h)) {
            return false;
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = ev.time else { return false };
            if self.since.is_some_and(|s| t.unix_nanos < s) || self.until.is_some_and(|u| t.unix_nanos >= u) {
                return false;
            }
        }
        if !self.sources.is_empty()
            && !self
                .sources
                .iter()
                .any(|s| ev.format.as_str() == s || ev.program == Some(s.as_str()) || ev.path.contains(s.as_str()))
        {
            return false;
        }
        if let Some(re) = &self.grep {
            if !re.is_match(ev.message) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rootline_event::{Event, Format, Provenance, Timestamp};

    #[test]
    fn filters_combine() {
        let mut ev = Event::new(Format::Syslog, Provenance::new("var/log/messages", 1, 0));
        ev.host = Some("n37".into());
        ev.program = Some("multipathd".into());
        ev.time = Some(Timestamp::from_unix_nanos(100, 0));
        ev.set_message(b"mpathb: remaining active paths: 0");
        let q = Query {
            hosts: vec!["n37".into()],
            since: Some(100),
            until: Some(101),
            grep: Some(Regex::new("paths: 0").unwrap()),
            sources: vec!["multipathd".into()],
        };
        assert!(q.matches(&ev));
        assert!(!Query { until: Some(100), ..Query::default() }.matches(&ev));
        assert!(!Query { hosts: vec!["n1".into()], ..Query::default() }.matches(&ev));
        assert!(Query { sources: vec!["messages".into()], ..Query::default() }.matches(&ev));
        assert!(!Query { sources: vec!["kernel".into()], ..Query::default() }.matches(&ev));
        ev.time = None;
        assert!(!Query { since: Some(0), ..Query::default() }.matches(&ev));
    }
}
