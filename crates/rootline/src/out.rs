//! Writing to the terminal or a pipe: colour decisions, event lines, JSON, broken pipes.

use std::io::{self, Write};

use rootline_event::{base64_if_invalid, lossless_str, EventRef, Severity, TimeKind};

/// When to colour output.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether to colour output that goes to a terminal (`to_terminal`) or not.
    pub fn enabled(self, to_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

/// The `--color` of this run (a global option: every command accepts it).
static COLOR: std::sync::OnceLock<ColorChoice> = std::sync::OnceLock::new();

/// Records the run's `--color` (once, from `main`).
pub fn set_color(c: ColorChoice) {
    let _ = COLOR.set(c);
}

/// Whether to colour output going to a terminal (`to_terminal`) or elsewhere, as `--color` says.
pub fn color(to_terminal: bool) -> bool {
    COLOR.get().copied().unwrap_or_default().enabled(to_terminal)
}

/// True when `e` is (or wraps) a closed-pipe write error: the reader went away, which is success.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe))
}

const DIM: &str = "\x1b[2m";
const CYAN: &str = "\x1b[36m";
const RED: &str = "\x1b[31m";
const BOLD_RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// Formats events as aligned text columns: time, host, source, message.
pub struct TextWriter {
    color: bool,
    host_w: usize,
    src_w: usize,
    /// The last time shown (its second and offset) and its text: lines of the same second only
    /// change the fraction.
    last_time: Option<((i64, i32), [u8; 32])>,
}

impl TextWriter {
    /// A writer; `color` adds ANSI colours.
    pub fn new(color: bool) -> Self {
        TextWriter { color, host_w: 8, src_w: 10, last_time: None }
    }

    /// Appends one event's lines to `l` (continuation lines indented below it).
    pub fn push(&mut self, l: &mut Vec<u8>, ev: EventRef<'_>) {
        let color = self.color;
        let paint = |l: &mut Vec<u8>, c: &str| {
            if color {
                l.extend_from_slice(c.as_bytes());
            }
        };
        paint(l, DIM);
        match (ev.time, ev.time_kind) {
            (Some(t), _) => {
                let sec = (t.unix_nanos.div_euclid(1_000_000_000), t.offset_secs);
                match &mut self.last_time {
                    Some((k, text)) if *k == sec => {
                        // `YYYY-MM-DD HH:MM:SS.ffffff +HHMM`: only the microseconds differ.
                        let mut us = t.unix_nanos.rem_euclid(1_000_000_000) / 1000;
                        for c in text[20..26].iter_mut().rev() {
                            *c = b'0' + (us % 10) as u8;
                            us /= 10;
                        }
                        l.extend_from_slice(text);
                    }
                    cached => {
                        let text = t.display_bytes();
                        l.extend_from_slice(&text);
                        *cached = Some((sec, text));
                    }
                }
            }
            (None, TimeKind::Relative) => {
                let b = ev.boot_nanos.unwrap_or(0);
                let start = l.len();
                let _ = write!(l, "boot+{}.{:06}s", b / 1_000_000_000, (b % 1_000_000_000).abs() / 1000);
                pad(l, start, 32);
            }
            _ => pad(l, l.len(), 32),
        }
        paint(l, RESET);
        l.push(b' ');
        let host = ev.host.map_or("-", |h| &**h);
        self.host_w = self.host_w.max(host.len().min(40));
        paint(l, CYAN);
        let start = l.len();
        l.extend_from_slice(host.as_bytes());
        pad(l, start, self.host_w);
        paint(l, RESET);
        l.push(b' ');
        let src = ev.program.unwrap_or(ev.format.as_str());
        self.src_w = self.src_w.max(src.len().min(24));
        let sev = match ev.severity {
            Some(s) if s <= Severity::Crit => Some(BOLD_RED),
            Some(Severity::Err) => Some(RED),
            Some(Severity::Warning) => Some(YELLOW),
            _ => None,
        };
        if let Some(c) = sev {
            paint(l, c);
        }
        let start = l.len();
        l.extend_from_slice(src.as_bytes());
        pad(l, start, self.src_w);
        if sev.is_some() {
            paint(l, RESET);
        }
        l.push(b' ');
        if ev.plain {
            l.extend_from_slice(ev.message);
            l.push(b'\n');
            return;
        }
        let msg = lossless_str(ev.message);
        let mut lines = msg.split('\n');
        l.extend_from_slice(lines.next().unwrap_or("").as_bytes());
        l.push(b'\n');
        for cont in lines {
            l.extend_from_slice(b"    ");
            l.extend_from_slice(cont.as_bytes());
            l.push(b'\n');
        }
    }
}

/// Pads what was pushed since `start` with spaces to `width` characters (ASCII width is enough:
/// host names and program names are ASCII in practice; wider text simply is not padded).
fn pad(l: &mut Vec<u8>, start: usize, width: usize) {
    let n = l.len() - start;
    if n < width {
        l.resize(l.len() + (width - n), b' ');
    }
}

/// Writes one event as a JSON object (one line of `--json` output, without the newline), keys in
/// sorted order, written field by field rather than through a `serde_json::Value` per line (which
/// made `--json` three times slower than text).
pub fn write_event_json(w: &mut Vec<u8>, ev: EventRef<'_>) -> io::Result<()> {
    fn key(w: &mut Vec<u8>, first: bool, k: &str) {
        w.extend_from_slice(if first { b"{\"" } else { b",\"" });
        w.extend_from_slice(k.as_bytes());
        w.extend_from_slice(b"\":");
    }
    fn val<T: serde::Serialize + ?Sized>(w: &mut Vec<u8>, v: &T) -> io::Result<()> {
        serde_json::to_writer(w, v).map_err(io::Error::other)
    }
    fn opt_str(w: &mut Vec<u8>, v: Option<&str>) {
        match v {
            Some(s) => json_str(w, s),
            None => w.extend_from_slice(b"null"),
        }
    }
    key(w, true, "attached_lines");
    val(w, &ev.attached)?;
    key(w, false, "boot_seconds");
    val(w, &ev.boot_nanos.map(|b| b as f64 / 1e9))?;
    key(w, false, "byte_offset");
    val(w, &ev.byte_offset)?;
    key(w, false, "fields");
    if ev.fields.is_empty() {
        w.extend_from_slice(b"{}");
    } else {
        // Sorted by key, the last value of a repeated key winning, as a JSON map would have it.
        let fields: std::collections::BTreeMap<_, _> = ev.fields.iter().collect();
        val(w, &fields)?;
    }
    key(w, false, "format");
    json_str(w, ev.format.as_str());
    key(w, false, "host");
    opt_str(w, ev.host.map(|h| &**h));
    key(w, false, "line");
    val(w, &ev.line)?;
    // `message` is always a string; bytes that are not UTF-8 are written `\xNN` there and exactly,
    // as base64, in `message_base64` (only then present).
    key(w, false, "message");
    let mut exact = None;
    if ev.plain {
        json_escaped(w, ev.message);
    } else {
        match std::str::from_utf8(ev.message) {
            Ok(s) => json_str(w, s),
            Err(_) => {
                json_str(w, &lossless_str(ev.message));
                exact = base64_if_invalid(ev.message);
            }
        }
    }
    if let Some(b) = exact {
        key(w, false, "message_base64");
        json_str(w, &b);
    }
    key(w, false, "path");
    json_str(w, ev.path);
    key(w, false, "pid");
    val(w, &ev.pid)?;
    key(w, false, "program");
    opt_str(w, ev.program);
    key(w, false, "severity");
    opt_str(w, ev.severity.map(|s| s.as_str()));
    key(w, false, "time");
    match ev.time {
        Some(t) => {
            // RFC 3339 needs no JSON escaping.
            w.push(b'"');
            t.push_rfc3339(w);
            w.push(b'"');
        }
        None => w.extend_from_slice(b"null"),
    }
    key(w, false, "time_kind");
    json_str(w, ev.time_kind.as_str());
    w.push(b'}');
    Ok(())
}

/// A JSON string, escaped exactly as `serde_json` escapes it.
fn json_str(w: &mut Vec<u8>, s: &str) {
    json_escaped(w, s.as_bytes())
}

/// `bytes` (valid UTF-8) as a JSON string, escaped exactly as `serde_json` does: `"`, `\` and
/// control characters, short forms where JSON has them, everything else as it is.
fn json_escaped(w: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    w.reserve(bytes.len() + 2);
    w.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while none of them needs escaping, as in most of a log line.
        if let Some(chunk) = bytes.get(i..i + 8) {
            if !needs_escape(u64::from_le_bytes(chunk.try_into().expect("8 bytes"))) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => &[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]],
            _ => {
                i += 1;
                continue;
            }
        };
        w.extend_from_slice(&bytes[start..i]);
        w.extend_from_slice(esc);
        i += 1;
        start = i;
    }
    w.extend_from_slice(&bytes[start..]);
    w.push(b'"');
}

/// True when one of the eight bytes of `x` is a control character, `"` or `\`. (The classic "has a
/// byte less than n" and "has a zero byte" word tricks: a byte can only be reported where one of
/// them is, or after it, never when none is; bytes of 0x80 and above never are.)
fn needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    (control | zero_in(x ^ (ONES * b'"' as u64)) | zero_in(x ^ (ONES * b'\\' as u64))) != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rootline_event::{Event, Format, Provenance, Severity, Timestamp};

    /// Escaping agrees with serde_json for every character that needs it, at every position
    /// relative to the eight-byte steps, beside multi-byte characters and in clean runs.
    #[test]
    fn escaping_matches_serde_json_at_every_offset() {
        let mut specials: Vec<char> = (0u8..0x20).map(char::from).collect();
        specials.extend(['"', '\\', '\u{7f}', 'é', '한', '😀', ' ', '~', '!', '#', '[', ']']);
        for c in specials {
            for at in 0..20 {
                for len in [at + 1, at + 9, 24] {
                    let s: String = (0..len.max(at + 1))
                        .map(|i| if i == at { c } else { (b'a' + (i % 26) as u8) as char })
                        .collect();
                    let mut got = Vec::new();
                    json_escaped(&mut got, s.as_bytes());
                    assert_eq!(
                        String::from_utf8(got).unwrap(),
                        serde_json::to_string(&s).unwrap(),
                        "{c:?} at {at} in {len}"
                    );
                }
            }
        }
        // Fixed words, then a deterministic pseudo-random stream of words (xorshift) biased to the
        // bytes around the boundaries.
        let mut words = vec![0u64, u64::MAX, 0x2020_2020_2020_2020, 0x8080_8080_8080_8080, 0x2121_2121_2121_2121];
        let mut r = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            let picks = [0x1f, 0x20, 0x21, 0x22, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xff, 0x00, 0x61];
            let b: [u8; 8] = std::array::from_fn(|k| {
                let v = (r >> (k * 8)) as u8;
                if v & 1 == 0 {
                    picks[(v >> 1) as usize % picks.len()]
                } else {
                    v
                }
            });
            words.push(u64::from_le_bytes(b));
        }
        for x in words {
            let bytes = x.to_le_bytes();
            let want = bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
            assert_eq!(needs_escape(x), want, "{x:#x}");
        }
    }

    /// The object built the straightforward way, for comparison.
    fn reference(ev: &Event) -> serde_json::Value {
        let mut fields = serde_json::Map::new();
        for (k, v) in &ev.fields {
            fields.insert(k.to_string(), serde_json::Value::String(v.to_string()));
        }
        let mut v = serde_json::json!({
            "time": ev.time.map(|t| t.to_rfc3339()),
            "time_kind": ev.time_kind.as_str(),
            "boot_seconds": ev.boot_nanos.map(|b| b as f64 / 1e9),
            "host": ev.host.as_deref(),
            "format": ev.format.as_str(),
            "program": ev.program.as_deref(),
            "pid": ev.pid,
            "severity": ev.severity.map(|s| s.as_str()),
            "message": lossless_str(&ev.message),
            "attached_lines": ev.attached,
            "path": &*ev.provenance.path,
            "line": ev.provenance.line,
            "byte_offset": ev.provenance.byte_offset,
            "fields": fields,
        });
        if let Some(b) = base64_if_invalid(&ev.message) {
            v["message_base64"] = b.into();
        }
        v
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("caf\u{e9} \u{d55c}\u{ae00} \u{1f600} \u{7f}\u{2028}");
        let mut got = Vec::new();
        json_str(&mut got, &all);
        assert_eq!(String::from_utf8(got).unwrap(), serde_json::to_string(&all).unwrap());
    }

    #[test]
    fn streamed_json_equals_the_reference_object_byte_for_byte() {
        let mut ev = Event::new(Format::Syslog, Provenance::new("dir/\"quoted\".log", 7, 99));
        ev.time = Some(Timestamp::from_unix_nanos(1_760_352_662_123_000_000, 9 * 3600));
        ev.boot_nanos = Some(57_021_751_000);
        ev.host = Some("s-dcn37-com604-krw1a".into());
        ev.program = Some("kernel".into());
        ev.pid = Some(42);
        ev.severity = Some(Severity::Err);
        ev.fields = vec![("z".into(), "1".into()), ("a".into(), "tab\there".into()), ("z".into(), "2".into())];
        for msg in
            [&b"INFO: task qemu\nCall Trace:"[..], &b"caf\xe9 \xff"[..], &b""[..], "q\"\\\u{1}\u{d55c}".as_bytes()]
        {
            ev.set_message(msg);
            let want = serde_json::to_string(&reference(&ev)).unwrap();
            let mut got = Vec::new();
            write_event_json(&mut got, (&ev).into()).unwrap();
            assert_eq!(String::from_utf8(got).unwrap(), want);
            if std::str::from_utf8(msg).is_ok() {
                let mut got = Vec::new();
                write_event_json(&mut got, EventRef { plain: true, ..(&ev).into() }).unwrap();
                assert_eq!(String::from_utf8(got).unwrap(), want, "the plain path");
            }
        }
        let bare = Event::new(Format::Generic, Provenance::new("-", 1, 0));
        let mut got = Vec::new();
        write_event_json(&mut got, (&bare).into()).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), serde_json::to_string(&reference(&bare)).unwrap());
    }
}
