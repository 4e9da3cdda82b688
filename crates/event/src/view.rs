//! [`EventRef`]: an event borrowed from wherever it is stored, for consumers that look at each event
//! once (printing, filtering) and need not own it.
//!
//! The merge hands these out straight from the encoded blocks its workers resolve, so a `timeline`
//! run builds no owned [`Event`] per line; [`EventRef::to_event`] makes one when a consumer keeps it.

use std::borrow::Cow;
use std::sync::Arc;

use crate::{Event, Format, Provenance, Severity, TimeKind, Timestamp};

/// An event's fields, borrowed. The same contract as [`Event`] (see there for each field).
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    /// Wall-clock time, if any.
    pub time: Option<Timestamp>,
    /// How `time` was obtained.
    pub time_kind: TimeKind,
    /// Seconds since boot (in nanoseconds) when the source stated it.
    pub boot_nanos: Option<i64>,
    /// Host the event happened on.
    pub host: Option<&'a Arc<str>>,
    /// The format the line was parsed as.
    pub format: Format,
    /// Program, unit, logger or command that wrote the line.
    pub program: Option<&'a str>,
    /// Process id the header named.
    pub pid: Option<u32>,
    /// Severity, normalised to syslog levels.
    pub severity: Option<Severity>,
    /// The message with the header removed; continuation lines follow, separated by `\n`.
    pub message: &'a [u8],
    /// A hint: true when `message` is known to be valid UTF-8 with no `\n` (printers can then copy
    /// it as it is); false when that is not known.
    pub plain: bool,
    /// Number of continuation lines joined into `message`.
    pub attached: u32,
    /// Display path of the source.
    pub path: &'a Arc<str>,
    /// 1-based number of the record's first line.
    pub line: u64,
    /// Byte offset of the record's first line in the (decompressed) source.
    pub byte_offset: u64,
    /// Structured fields the format states, in order.
    pub fields: Fields<'a>,
}

/// An event's structured fields, borrowed: from an [`Event`], or packed as the merge stores them.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a>(Repr<'a>);

#[derive(Debug, Clone, Copy)]
enum Repr<'a> {
    Owned(&'a [(Box<str>, Box<str>)]),
    Packed { bytes: &'a [u8], count: u32 },
}

impl<'a> Fields<'a> {
    /// No fields.
    pub const EMPTY: Fields<'static> = Fields(Repr::Owned(&[]));

    /// `count` fields packed in `bytes`: each key, then its value, as a little-endian `u32` length and
    /// that many bytes of UTF-8. Bytes that are not UTF-8 are shown lossily (`U+FFFD`); a truncated
    /// buffer ends the fields early.
    pub fn packed(bytes: &'a [u8], count: u32) -> Self {
        Fields(Repr::Packed { bytes, count })
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        match self.0 {
            Repr::Owned(f) => f.len(),
            Repr::Packed { count, .. } => count as usize,
        }
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The fields as (key, value), in order.
    pub fn iter(&self) -> FieldsIter<'a> {
        FieldsIter(self.0)
    }

    /// True when some field is named one of `keys` (one pass over the fields, no value decoded).
    pub fn has_any(&self, keys: &[&str]) -> bool {
        match self.0 {
            Repr::Owned(f) => f.iter().any(|(k, _)| keys.contains(&&**k)),
            Repr::Packed { mut bytes, count } => {
                for _ in 0..count {
                    let (Some(k), Some(_)) = (take_bytes(&mut bytes), take_bytes(&mut bytes)) else { return false };
                    // Bytes first; only a key that is not ASCII may equal one of `keys` lossily.
                    if keys.iter().any(|key| k == key.as_bytes())
                        || (!k.is_ascii() && keys.iter().any(|key| key_is(k, key)))
                    {
                        return true;
                    }
                }
                false
            }
        }
    }

    /// The value of the first field named `key` (as [`Event::field`] on the owned copy).
    pub fn get(&self, key: &str) -> Option<Cow<'a, str>> {
        match self.0 {
            Repr::Owned(f) => f.iter().find(|(k, _)| &**k == key).map(|(_, v)| Cow::Borrowed(&**v)),
            Repr::Packed { mut bytes, count } => {
                // Keys are compared as bytes; only the value found is decoded.
                for _ in 0..count {
                    let k = take_bytes(&mut bytes)?;
                    let v = take_bytes(&mut bytes)?;
                    if key_is(k, key) {
                        return Some(String::from_utf8_lossy(v));
                    }
                }
                None
            }
        }
    }
}

/// Iterator over [`Fields`].
pub struct FieldsIter<'a>(Repr<'a>);

impl<'a> Iterator for FieldsIter<'a> {
    type Item = (Cow<'a, str>, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Repr::Owned(f) => {
                let ((k, v), rest) = f.split_first()?;
                *f = rest;
                Some((Cow::Borrowed(&**k), Cow::Borrowed(&**v)))
            }
            Repr::Packed { bytes, count } => {
                if *count == 0 {
                    return None;
                }
                *count -= 1;
                let (k, v) = (take_str(bytes), take_str(bytes));
                match (k, v) {
                    (Some(k), Some(v)) => Some((k, v)),
                    _ => {
                        *count = 0;
                        None
                    }
                }
            }
        }
    }
}

fn take_str<'a>(b: &mut &'a [u8]) -> Option<Cow<'a, str>> {
    take_bytes(b).map(String::from_utf8_lossy)
}

/// Whether the packed key `k` reads as `key`: compared as bytes; a key that is not UTF-8 (so not
/// ASCII) reads as its lossy decoding, which only a `key` holding U+FFFD can equal.
fn key_is(k: &[u8], key: &str) -> bool {
    k == key.as_bytes() || (!k.is_ascii() && key.contains('\u{FFFD}') && String::from_utf8_lossy(k) == key)
}

fn take_bytes<'a>(b: &mut &'a [u8]) -> Option<&'a [u8]> {
    let n = u32::from_le_bytes(b.get(..4)?.try_into().ok()?) as usize;
    let s = b.get(4..4 + n)?;
    *b = &b[4 + n..];
    Some(s)
}

impl<'a> EventRef<'a> {
    /// The first line of the message (the record's own line, without continuation lines).
    pub fn headline(&self) -> &'a [u8] {
        match crate::memchr_nl(self.message) {
            Some(i) => &self.message[..i],
            None => self.message,
        }
    }

    /// An owned copy.
    pub fn to_event(&self) -> Event {
        Event {
            time: self.time,
            time_kind: self.time_kind,
            boot_nanos: self.boot_nanos,
            host: self.host.cloned(),
            format: self.format,
            program: self.program.map(Box::from),
            pid: self.pid,
            severity: self.severity,
            message: self.message.to_vec(),
            attached: self.attached,
            provenance: Provenance { path: self.path.clone(), line: self.line, byte_offset: self.byte_offset },
            fields: self.fields.iter().map(|(k, v)| (Box::from(k), Box::from(v))).collect(),
            entities: Vec::new(),
        }
    }
}

impl<'a> From<&'a Event> for EventRef<'a> {
    fn from(ev: &'a Event) -> Self {
        EventRef {
            time: ev.time,
            time_kind: ev.time_kind,
            boot_nanos: ev.boot_nanos,
            host: ev.host.as_ref(),
            format: ev.format,
            program: ev.program.as_deref(),
            pid: ev.pid,
            severity: ev.severity,
            message: &ev.message,
            plain: false,
            attached: ev.attached,
            path: &ev.provenance.path,
            line: ev.provenance.line,
            byte_offset: ev.provenance.byte_offset,
            fields: Fields(Repr::Owned(&ev.fields)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_fields_and_roundtrip() {
        let mut packed = Vec::new();
        for s in ["container", "libvirt", "stream", "stderr"] {
            packed.extend_from_slice(&(s.len() as u32).to_le_bytes());
            packed.extend_from_slice(s.as_bytes());
        }
        let f = Fields::packed(&packed, 2);
        let got: Vec<_> = f.iter().collect();
        assert_eq!(got, [("container".into(), "libvirt".into()), ("stream".into(), "stderr".into())]);
        assert_eq!(Fields::packed(&packed[..10], 2).iter().count(), 0, "a truncated buffer ends early");
        assert_eq!(f.get("stream").as_deref(), Some("stderr"));
        assert_eq!(f.get("libvirt"), None, "values are not keys");
        assert_eq!(Fields::packed(&packed[..10], 2).get("container"), None);
        // `has_any` answers what asking `get` for each key answers, packed and owned, whole and cut.
        let owned: Vec<(Box<str>, Box<str>)> = f.iter().map(|(k, v)| (k.into(), v.into())).collect();
        for fields in
            [f, Fields::packed(&packed[..30], 2), Fields::packed(&packed[..10], 2), Fields(Repr::Owned(&owned))]
        {
            for keys in [&["stream"][..], &["pid", "container"], &["libvirt", "stderr"], &[]] {
                assert_eq!(fields.has_any(keys), keys.iter().any(|k| fields.get(k).is_some()), "{keys:?}");
            }
        }
        // A key that is not UTF-8 reads as its lossy decoding, for `get` and `has_any` alike.
        let mut odd = Vec::new();
        for s in [&b"ke\xffy"[..], b"v"] {
            odd.extend_from_slice(&(s.len() as u32).to_le_bytes());
            odd.extend_from_slice(s);
        }
        let odd = Fields::packed(&odd, 1);
        assert_eq!(odd.get("ke\u{FFFD}y").as_deref(), Some("v"));
        assert!(odd.has_any(&["pid", "ke\u{FFFD}y"]) && !odd.has_any(&["key", "kE\u{FFFD}y"]));

        let mut ev = Event::new(Format::Cri, Provenance::new("x", 3, 9));
        ev.set_message(b"a\nb");
        ev.attached = 1;
        ev.fields.push(("stream".into(), "stderr".into()));
        let r = EventRef::from(&ev);
        assert_eq!(r.headline(), b"a");
        assert_eq!(r.to_event(), ev);
        assert!(Fields::EMPTY.is_empty());
    }
}
