//! The data contract between ingest and every later stage of rootline.
//!
//! This crate owns the [`Event`] (one log record or one item of a state snapshot, with the exact place
//! it came from), its [`Timestamp`], [`Severity`], [`Format`] and [`Provenance`]. It does no I/O and no
//! parsing of log formats: that is `rootline-ingest`. Rules, templates, correlation and reports read
//! `Event`s and never look at files themselves. [`EventRef`] is the same event borrowed, for
//! consumers that look at each event once (the timeline printer) and need not own it.
//!
//! ```
//! use rootline_event::{Event, Format, Provenance, Timestamp};
//! let mut ev = Event::new(Format::Syslog, Provenance::new("messages", 12, 880));
//! ev.time = Some(Timestamp::from_unix_nanos(1_760_352_662_000_000_000, 9 * 3600));
//! ev.set_message(b"mpathb: remaining active paths: 0");
//! assert_eq!(ev.time.unwrap().to_rfc3339(), "2025-10-13T19:51:02+09:00");
//! assert_eq!(ev.message_str(), "mpathb: remaining active paths: 0");
//! ```

mod format;
mod text;
mod time;
mod view;

use std::sync::Arc;

pub use format::{Format, Severity, TimeKind};
pub use text::{base64_if_invalid, count, cut, lossless_str, plural, thousands};
pub use time::{civil_from_days, days_from_civil, Timestamp};
pub use view::{EventRef, Fields, FieldsIter};

/// Where an event came from: the file (or `archive.tar.gz!member/path`), its 1-based line number and the
/// byte offset of the line's first byte in the decompressed stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Provenance {
    /// Display path of the source; archive members are written `archive!member`.
    pub path: Arc<str>,
    /// 1-based number of the record's first line.
    pub line: u64,
    /// Byte offset of the record's first line in the (decompressed) source.
    pub byte_offset: u64,
}

impl Provenance {
    /// A provenance for `path` at `line` (1-based) and `byte_offset`.
    pub fn new(path: impl Into<Arc<str>>, line: u64, byte_offset: u64) -> Self {
        Provenance { path: path.into(), line, byte_offset }
    }
}

/// A named entity an event mentions (`dm` = `dm-21`, `disk` = `sdv`, `pod` = `libvirt-x7k2p`).
///
/// Ingest fills the entities a format states outright (a CRI log's container, an OpenSearch record's
/// pod); rules add the ones they capture from the message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entity {
    /// Entity kind: `dm`, `devt`, `disk`, `map`, `wwid`, `pid`, `comm`, `pod`, `container`, `volume`, ...
    pub kind: Box<str>,
    /// The value as written in the evidence.
    pub value: Box<str>,
}

/// One log record (with any continuation lines attached) or one item of a state snapshot.
///
/// The message keeps the original bytes: invalid UTF-8 is not replaced here, only when displayed
/// (see [`lossless_str`] and [`base64_if_invalid`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Wall-clock time, or `None` when the line carried no usable time (its order is still kept).
    pub time: Option<Timestamp>,
    /// How `time` was obtained.
    pub time_kind: TimeKind,
    /// Seconds since boot (in nanoseconds) when the source stated it (kernel ring buffer lines).
    pub boot_nanos: Option<i64>,
    /// Host the event happened on.
    pub host: Option<Arc<str>>,
    /// The format the line was parsed as.
    pub format: Format,
    /// Program, unit, logger or command that wrote the line (`multipathd`, `kernel`, `nova.compute.manager`).
    pub program: Option<Box<str>>,
    /// Process id the header named.
    pub pid: Option<u32>,
    /// Severity, normalised to syslog levels.
    pub severity: Option<Severity>,
    /// The message with the header removed; continuation lines follow, separated by `\n`.
    pub message: Vec<u8>,
    /// Number of continuation lines joined into `message` (call trace lines, traceback lines).
    pub attached: u32,
    /// Where the record starts.
    pub provenance: Provenance,
    /// Structured fields a format states outright (`container`, `pod`, `namespace`, `stream`, `unit`, ...).
    pub fields: Vec<(Box<str>, Box<str>)>,
    /// Entities named by the event (filled by ingest for structured fields, by rules for captures).
    pub entities: Vec<Entity>,
}

impl Event {
    /// An empty event of `format` at `provenance`, with no time, host or message.
    pub fn new(format: Format, provenance: Provenance) -> Self {
        Event {
            time: None,
            time_kind: TimeKind::None,
            boot_nanos: None,
            host: None,
            format,
            program: None,
            pid: None,
            severity: None,
            message: Vec::new(),
            attached: 0,
            provenance,
            fields: Vec::new(),
            entities: Vec::new(),
        }
    }

    /// Replaces the message bytes.
    pub fn set_message(&mut self, msg: &[u8]) {
        self.message.clear();
        self.message.extend_from_slice(msg);
    }

    /// The message as text; invalid UTF-8 sequences are shown as `\xNN` escapes (lossless and visible).
    pub fn message_str(&self) -> std::borrow::Cow<'_, str> {
        lossless_str(&self.message)
    }

    /// The first line of the message (the record's own line, without continuation lines).
    pub fn headline(&self) -> &[u8] {
        match memchr_nl(&self.message) {
            Some(i) => &self.message[..i],
            None => &self.message,
        }
    }

    /// The value of structured field `key`, if the format stated it.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| &**k == key).map(|(_, v)| &**v)
    }
}

/// Where the first line of `b` ends (vectorised: every event's headline is cut with it).
pub(crate) fn memchr_nl(b: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headline_is_first_line() {
        let mut ev = Event::new(Format::Kernel, Provenance::new("dmesg", 1, 0));
        ev.set_message(b"INFO: task jbd2/dm-0-8:196 blocked\nCall Trace:\n <TASK>");
        ev.attached = 2;
        assert_eq!(ev.headline(), b"INFO: task jbd2/dm-0-8:196 blocked");
    }

    #[test]
    fn field_lookup() {
        let mut ev = Event::new(Format::Cri, Provenance::new("x", 1, 0));
        ev.fields.push(("stream".into(), "stderr".into()));
        assert_eq!(ev.field("stream"), Some("stderr"));
        assert_eq!(ev.field("pod"), None);
    }
}
