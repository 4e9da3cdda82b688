//! What a read saw: files, lines, events, unparsed lines, skipped files, warnings, per source.

use crate::source::Skipped;
use crate::time::resolve::SourceStats;

/// Totals and per-source details of one read.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// Files and archive members read as logs.
    pub files: u64,
    /// Lines read.
    pub lines: u64,
    /// Events made.
    pub events: u64,
    /// Lines no parser could read (each kept as a timeless event).
    pub unparsed_lines: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
    /// Lines longer than `max_line` bytes, cut to it (each kept, the first few named in `warnings`).
    pub cut_lines: u64,
    /// The line limit in bytes (`--max-line`).
    pub max_line: u64,
    /// Earliest event time of any source (RFC 3339 in the source's zone), when any has a time.
    pub first: Option<String>,
    /// Latest event time of any source.
    pub last: Option<String>,
    /// Inputs not read, with the reason.
    pub skipped: Vec<Skipped>,
    /// Files read as facts about their bundle folder rather than as logs (a host name, a time zone,
    /// a boot time), with the fact each gave as its reason. Neither logs nor skipped: counted apart,
    /// so that every count of `skipped` means the same.
    pub metadata: Vec<Skipped>,
    /// Problems met while reading (cut lines, damaged archives, truncated streams).
    pub warnings: Vec<Skipped>,
    /// One entry per source read.
    pub sources: Vec<SourceStats>,
    /// The zone an analysis shows its times in: `--tz`, else the bundle's own zone (its
    /// `etc/localtime`, when the bundles agree on one), else the machine's.
    pub zone: Zone,
}

/// A zone to show times in, and where it came from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Zone {
    /// The IANA name, or how the zone was found (`etc/localtime of the bundle`).
    pub name: String,
    /// The zone.
    #[serde(skip)]
    pub tz: jiff::tz::TimeZone,
}

impl Default for Zone {
    fn default() -> Self {
        Zone { name: "UTC".into(), tz: jiff::tz::TimeZone::UTC }
    }
}

impl Zone {
    /// `t` as the wall time of this zone (the same instant, its offset there).
    pub fn show(&self, t: rootline_event::Timestamp) -> rootline_event::Timestamp {
        let off = jiff::Timestamp::from_nanosecond(t.unix_nanos as i128)
            .map(|x| self.tz.to_offset(x).seconds())
            .unwrap_or(t.offset_secs);
        t.with_offset(off)
    }
}

impl Stats {
    pub(crate) fn new(
        sources: Vec<SourceStats>,
        skipped: Vec<Skipped>,
        metadata: Vec<Skipped>,
        warnings: Vec<Skipped>,
        zone: Zone,
    ) -> Self {
        let instant = |s: &String| s.parse::<jiff::Timestamp>().ok().map(|t| (t, s.clone()));
        let first = sources.iter().filter_map(|s| s.first.as_ref().and_then(instant)).min_by_key(|x| x.0).map(|x| x.1);
        let last = sources.iter().filter_map(|s| s.last.as_ref().and_then(instant)).max_by_key(|x| x.0).map(|x| x.1);
        Stats {
            files: sources.len() as u64,
            lines: sources.iter().map(|s| s.lines).sum(),
            events: sources.iter().map(|s| s.events).sum(),
            unparsed_lines: sources.iter().map(|s| s.unparsed_lines).sum(),
            bytes: sources.iter().map(|s| s.bytes).sum(),
            cut_lines: 0,
            max_line: 0,
            first,
            last,
            skipped,
            metadata,
            warnings,
            sources,
            zone,
        }
    }

    /// True when not one file or member was read as a log: every input was skipped, or the inputs
    /// hold no files (an empty directory). Commands then exit 2 with "nothing could be read".
    pub fn nothing_read(&self) -> bool {
        self.files == 0
    }
}
