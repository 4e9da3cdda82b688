//! The fallback format: any text. A line that carries an ISO 8601 / RFC 3339 stamp near its start
//! (`2025-10-13T19:51:02Z ...`, `[2025-10-13 19:51:02,123] ...`) is timed; every other line is an
//! event without a time that keeps its place after the nearest earlier line. Nothing is unparsed.
//!
//! Also the `plain` format (`--input-format plain`): every line is a bare message, no header at all.

use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::parse_iso;
use crate::time::RawTime;

/// True when a stamp is found near the start of `line`.
pub fn detect(line: &[u8]) -> bool {
    find_stamp(line).is_some()
}

/// A generic parser.
pub fn parser(_: &SourceCtx) -> Box<dyn Parser> {
    Box::new(Generic { plain: false })
}

/// A plain parser: every line is a message with no header.
pub fn plain_parser(_: &SourceCtx) -> Box<dyn Parser> {
    Box::new(Generic { plain: true })
}

struct Generic {
    plain: bool,
}

/// Finds an ISO stamp starting in the first 48 bytes; returns (time, start, end).
pub(crate) fn find_stamp(line: &[u8]) -> Option<(RawTime, usize, usize)> {
    let lim = line.len().min(48);
    let mut i = 0;
    while i + 19 <= line.len() && i < lim {
        if line[i].is_ascii_digit()
            && (i == 0 || !line[i - 1].is_ascii_alphanumeric())
            && line.get(i + 4) == Some(&b'-')
        {
            if let Some((t, n)) = parse_iso(&line[i..]) {
                return Some((t, i, i + n));
            }
        }
        i += 1;
    }
    None
}

impl Parser for Generic {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        if self.plain {
            out.record(at, Record::new(RawTime::None, line));
            return;
        }
        if line.is_empty() {
            out.skip(at);
            return;
        }
        match find_stamp(line) {
            Some((t, start, end)) => {
                // Drop the stamp (and brackets or separators around it) from the message.
                let mut rest = &line[end..];
                if start > 0 && line[start - 1] == b'[' {
                    rest = rest.strip_prefix(b"]").unwrap_or(rest);
                }
                let rest = super::util::trim(rest);
                let msg = if start == 0 || (start == 1 && line[0] == b'[') { rest } else { line };
                out.record(at, Record::new(t, msg));
            }
            None => out.record(at, Record::new(RawTime::None, line)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testing::{records, run};

    #[test]
    fn stamped_and_unstamped_lines() {
        let got = run(
            parser(&SourceCtx::default()),
            "2025-10-13T19:51:02Z start\n[2025-10-13 19:51:03,5] next\nno stamp here\nid=7 at 2025-10-13 19:51:04 x",
        );
        let r = records(&got);
        assert_eq!(r.len(), 4);
        assert_eq!(r[0].2, "start");
        assert_eq!(r[1].2, "next");
        assert_eq!(r[2].0, RawTime::None);
        assert!(r[3].0.is_some());
        assert_eq!(r[3].2, "id=7 at 2025-10-13 19:51:04 x");
    }

    #[test]
    fn plain_keeps_whole_lines() {
        let r = records(&run(plain_parser(&SourceCtx::default()), "2025-10-13T19:51:02Z start"));
        assert_eq!(r[0], (RawTime::None, None, "2025-10-13T19:51:02Z start".into()));
    }
}
