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
}

impl Stats {
    pub(crate) fn new(
        sources: Vec<SourceStats>,
        skipped: Vec<Skipped>,
        metadata: Vec<Skipped>,
        warnings: Vec<Skipped>,
    ) -> Self {
        Stats {
            files: sources.len() as u64,
            lines: sources.iter().map(|s| s.lines).sum(),
            events: sources.iter().map(|s| s.events).sum(),
            unparsed_lines: sources.iter().map(|s| s.unparsed_lines).sum(),
            bytes: sources.iter().map(|s| s.bytes).sum(),
            skipped,
            metadata,
            warnings,
            sources,
        }
    }
}
