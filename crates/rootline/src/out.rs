//! Writing to the terminal or a pipe: colour decisions, event lines, JSON, broken pipes.

use std::io::{self, IsTerminal, Write};

use rootline_event::{json_text, lossless_str, Event, Severity, TimeKind};

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
    /// Whether to colour standard output.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }
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
    line: String,
    /// The last time shown (its second and offset) and its text: lines of the same second only
    /// change the fraction.
    last_time: Option<((i64, i32), String)>,
}

impl TextWriter {
    /// A writer; `color` adds ANSI colours.
    pub fn new(color: bool) -> Self {
        TextWriter { color, host_w: 8, src_w: 10, line: String::with_capacity(512), last_time: None }
    }

    /// Writes one event (continuation lines indented below it).
    pub fn write(&mut self, w: &mut dyn Write, ev: &Event) -> io::Result<()> {
        let l = &mut self.line;
        l.clear();
        let color = self.color;
        let paint = |l: &mut String, c: &str| {
            if color {
                l.push_str(c);
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
                        let mut frac = [b'0'; 6];
                        for c in frac.iter_mut().rev() {
                            *c = b'0' + (us % 10) as u8;
                            us /= 10;
                        }
                        l.push_str(&text[..20]);
                        l.push_str(std::str::from_utf8(&frac).unwrap_or("000000"));
                        l.push_str(&text[26..]);
                    }
                    cached => {
                        let start = l.len();
                        t.push_display(l);
                        if l.len() - start == 32 {
                            *cached = Some((sec, l[start..].to_string()));
                        }
                    }
                }
            }
            (None, TimeKind::Relative) => {
                let b = ev.boot_nanos.unwrap_or(0);
                let start = l.len();
                use std::fmt::Write as _;
                let _ = write!(l, "boot+{}.{:06}s", b / 1_000_000_000, (b % 1_000_000_000).abs() / 1000);
                pad(l, start, 32);
            }
            _ => pad(l, l.len(), 32),
        }
        paint(l, RESET);
        l.push(' ');
        let host = ev.host.as_deref().unwrap_or("-");
        self.host_w = self.host_w.max(host.len().min(40));
        paint(l, CYAN);
        let start = l.len();
        l.push_str(host);
        pad(l, start, self.host_w);
        paint(l, RESET);
        l.push(' ');
        let src = ev.program.as_deref().unwrap_or(ev.format.as_str());
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
        l.push_str(src);
        pad(l, start, self.src_w);
        if sev.is_some() {
            paint(l, RESET);
        }
        l.push(' ');
        let msg = lossless_str(&ev.message);
        let mut lines = msg.split('\n');
        l.push_str(lines.next().unwrap_or(""));
        l.push('\n');
        for cont in lines {
            l.push_str("    ");
            l.push_str(cont);
            l.push('\n');
        }
        w.write_all(l.as_bytes())
    }
}

/// Pads what was pushed since `start` with spaces to `width` characters (ASCII width is enough:
/// host names and program names are ASCII in practice; wider text simply is not padded).
fn pad(l: &mut String, start: usize, width: usize) {
    let n = l.len() - start;
    for _ in n..width {
        l.push(' ');
    }
}

/// Writes one event as a JSON object (one line of `--json` output, without the newline), keys in
/// sorted order, written field by field rather than through a `serde_json::Value` per line (which
/// made `--json` three times slower than text).
pub fn write_event_json(w: &mut dyn Write, ev: &Event) -> io::Result<()> {
    fn key(w: &mut dyn Write, first: bool, k: &str) -> io::Result<()> {
        w.write_all(if first { b"{\"" } else { b",\"" })?;
        w.write_all(k.as_bytes())?;
        w.write_all(b"\":")
    }
    fn val<T: serde::Serialize + ?Sized>(w: &mut dyn Write, v: &T) -> io::Result<()> {
        serde_json::to_writer(w, v).map_err(io::Error::other)
    }
    key(w, true, "attached_lines")?;
    val(w, &ev.attached)?;
    key(w, false, "boot_seconds")?;
    val(w, &ev.boot_nanos.map(|b| b as f64 / 1e9))?;
    key(w, false, "byte_offset")?;
    val(w, &ev.provenance.byte_offset)?;
    key(w, false, "fields")?;
    // Sorted by key, the last value of a repeated key winning, as a JSON map would have it.
    let mut fields: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for (k, v) in &ev.fields {
        fields.insert(k, v);
    }
    val(w, &fields)?;
    key(w, false, "format")?;
    val(w, ev.format.as_str())?;
    key(w, false, "host")?;
    val(w, &ev.host.as_deref())?;
    key(w, false, "line")?;
    val(w, &ev.provenance.line)?;
    key(w, false, "message")?;
    match std::str::from_utf8(&ev.message) {
        Ok(s) => val(w, s)?,
        Err(_) => val(w, &json_text(&ev.message))?,
    }
    key(w, false, "path")?;
    val(w, &*ev.provenance.path)?;
    key(w, false, "pid")?;
    val(w, &ev.pid)?;
    key(w, false, "program")?;
    val(w, &ev.program.as_deref())?;
    key(w, false, "severity")?;
    val(w, &ev.severity.map(|s| s.as_str()))?;
    key(w, false, "time")?;
    match ev.time {
        Some(t) => val(w, &t.to_rfc3339())?,
        None => w.write_all(b"null")?,
    }
    key(w, false, "time_kind")?;
    val(w, ev.time_kind.as_str())?;
    w.write_all(b"}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rootline_event::{Format, Provenance, Severity, Timestamp};

    /// The object built the straightforward way, for comparison.
    fn reference(ev: &Event) -> serde_json::Value {
        let mut fields = serde_json::Map::new();
        for (k, v) in &ev.fields {
            fields.insert(k.to_string(), serde_json::Value::String(v.to_string()));
        }
        serde_json::json!({
            "time": ev.time.map(|t| t.to_rfc3339()),
            "time_kind": ev.time_kind.as_str(),
            "boot_seconds": ev.boot_nanos.map(|b| b as f64 / 1e9),
            "host": ev.host.as_deref(),
            "format": ev.format.as_str(),
            "program": ev.program.as_deref(),
            "pid": ev.pid,
            "severity": ev.severity.map(|s| s.as_str()),
            "message": json_text(&ev.message),
            "attached_lines": ev.attached,
            "path": &*ev.provenance.path,
            "line": ev.provenance.line,
            "byte_offset": ev.provenance.byte_offset,
            "fields": fields,
        })
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
        for msg in [&b"INFO: task qemu\nCall Trace:"[..], &b"caf\xe9 \xff"[..], &b""[..]] {
            ev.set_message(msg);
            let mut got = Vec::new();
            write_event_json(&mut got, &ev).unwrap();
            assert_eq!(String::from_utf8(got).unwrap(), serde_json::to_string(&reference(&ev)).unwrap());
        }
        let bare = Event::new(Format::Generic, Provenance::new("-", 1, 0));
        let mut got = Vec::new();
        write_event_json(&mut got, &bare).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), serde_json::to_string(&reference(&bare)).unwrap());
    }
}
