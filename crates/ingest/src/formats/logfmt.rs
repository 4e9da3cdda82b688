//! logfmt and logrus text lines, as containerd, dockerd, CRI-O and many Go agents write them:
//! `time="2025-10-13T19:46:12.123456789+09:00" level=info msg="PullImage \"...\" returns ..." id=...`.
//!
//! A line is a run of `key=value` pairs separated by spaces; a value is bare (up to the next space) or
//! double-quoted with Go `strconv.Quote` escapes. The time comes from `time`/`ts`/`timestamp`/`t`
//! (RFC 3339, or epoch seconds with a fraction), the severity from `level`/`lvl`/`severity`, the message
//! from `msg`/`message`; every other key becomes a field (at most [`MAX_FIELDS`]). Lines that are not
//! pairs but are indented (a Go panic's stack) continue the previous record.
//!
//! The pair tokenizer ([`Pairs`], [`unquote`]) is shared with klog's structured messages.
//!
//! See: https://brandur.org/logfmt, github.com/go-logfmt/logfmt (decoder), sirupsen/logrus
//! `TextFormatter` (`time=`/`level=`/`msg=` and quoting rules), Go `strconv.Quote` (escapes).

use std::borrow::Cow;

use rootline_event::Severity;

use super::util::{parse_u64, text, trim};
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::{parse_fraction, parse_iso};
use crate::time::RawTime;

/// Fields kept per record beyond time, level and message.
pub const MAX_FIELDS: usize = 32;

/// Programs recognised in a source path, checked in order (the first contained name wins).
const PATH_PROGRAMS: &[(&str, &str)] = &[
    ("containerd", "containerd"),
    ("dockerd", "dockerd"),
    ("docker", "dockerd"),
    ("cri-o", "crio"),
    ("crio", "crio"),
    ("buildkitd", "buildkitd"),
    ("etcd", "etcd"),
];

/// True when `line` is a logfmt record: pairs from its first byte, with a readable time key and a
/// level or message key.
pub fn detect(line: &[u8]) -> bool {
    if !line.first().is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let (mut time, mut other) = (false, false);
    for (i, p) in Pairs::new(line).enumerate() {
        if p.key.is_empty() || !p.has_eq || i >= 64 {
            return false;
        }
        match p.key {
            b"time" | b"ts" | b"timestamp" | b"t" => time = parse_time(p.raw).is_some(),
            b"level" | b"lvl" | b"severity" | b"msg" | b"message" => other = true,
            _ => {}
        }
        if time && other {
            return true;
        }
    }
    false
}

/// Path hint: none (the registry scores logfmt by its lines).
pub fn path_hint(_path: &str) -> f32 {
    0.0
}

/// A logfmt parser; the program comes from the path when it names a daemon.
pub fn parser(ctx: &SourceCtx) -> Box<dyn Parser> {
    Box::new(LogfmtParser { program: program_from_path(&ctx.path, PATH_PROGRAMS), have_record: false })
}

struct LogfmtParser {
    program: Option<String>,
    have_record: bool,
}

/// The first program of `table` named by the file name of `path`, else by any part of the path.
pub(crate) fn program_from_path(path: &str, table: &[(&str, &str)]) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    let base = lower.rsplit(['/', '!']).next().unwrap_or("");
    table
        .iter()
        .find(|(n, _)| base.contains(n))
        .or_else(|| table.iter().find(|(n, _)| lower.contains(n)))
        .map(|(_, p)| p.to_string())
}

/// One `key=value` pair as written: `raw` is the value without its quotes, still escaped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pair<'a> {
    /// The key (empty for a stray quoted string).
    pub key: &'a [u8],
    /// The value as written, quotes removed, escapes kept.
    pub raw: &'a [u8],
    /// True when the value was quoted and holds a backslash (escapes to decode).
    pub escaped: bool,
    /// False for a bare word with no `=`.
    pub has_eq: bool,
}

impl<'a> Pair<'a> {
    /// The value with escapes decoded.
    pub fn value(&self) -> Cow<'a, [u8]> {
        if self.escaped {
            unquote(self.raw)
        } else {
            Cow::Borrowed(self.raw)
        }
    }
}

/// Iterates the `key=value` pairs of a logfmt text. Never fails: odd input yields odd pairs.
pub(crate) struct Pairs<'a> {
    rest: &'a [u8],
}

impl<'a> Pairs<'a> {
    /// Pairs of `b`.
    pub fn new(b: &'a [u8]) -> Self {
        Pairs { rest: b }
    }
}

/// Index just past the closing quote of the quoted string opening at `b[0]` (or `b.len()`).
pub(crate) fn quoted_end(b: &[u8]) -> usize {
    quoted_span(b).0
}

/// [`quoted_end`], and whether the string holds a backslash.
fn quoted_span(b: &[u8]) -> (usize, bool) {
    let (mut i, mut escaped) = (1, false);
    while let Some(j) = memchr::memchr2(b'"', b'\\', b.get(i..).unwrap_or(b"")) {
        let k = i + j;
        if b[k] == b'\\' {
            escaped = true;
            i = k + 2;
        } else {
            return (k + 1, escaped);
        }
    }
    (b.len(), escaped)
}

/// The bytes that can end a bare value or change its bracket depth.
static BARE_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 7 {
        t[b" \t[{]}\""[i] as usize] = true;
        i += 1;
    }
    t
};

/// Index just past a bare value: up to a space outside brackets and quotes (`cmd=["virsh","list"]`).
fn bare_end(b: &[u8]) -> usize {
    let mut depth = 0usize;
    let mut i = 0;
    // Only spaces, brackets and quotes matter: jump from one to the next.
    while let Some(j) = b[i..].iter().position(|c| BARE_STOP[*c as usize]) {
        let k = i + j;
        match b[k] {
            b' ' | b'\t' if depth == 0 => return k,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' if depth > 0 => {
                i = k + quoted_end(&b[k..]);
                continue;
            }
            _ => {}
        }
        i = k + 1;
    }
    b.len()
}

fn skip_spaces(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| **c == b' ' || **c == b'\t').count();
    &b[n..]
}

fn inner(b: &[u8], end: usize) -> &[u8] {
    // A quoted string of length `end` starting at b[0]; drop the quotes (the closing one may be missing).
    let close = usize::from(end >= 2 && b.get(end - 1) == Some(&b'"'));
    &b[1.min(end)..end - close]
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Pair<'a>;

    fn next(&mut self) -> Option<Pair<'a>> {
        let b = skip_spaces(self.rest);
        if b.is_empty() {
            self.rest = b;
            return None;
        }
        if b[0] == b'"' {
            let (end, escaped) = quoted_span(b);
            self.rest = &b[end..];
            return Some(Pair { key: b"", raw: inner(b, end), escaped, has_eq: false });
        }
        let k = b.iter().position(|c| matches!(c, b'=' | b' ' | b'\t' | b'"')).unwrap_or(b.len());
        let key = &b[..k];
        if b.get(k) != Some(&b'=') {
            let end = if b.get(k) == Some(&b'"') { k + bare_end(&b[k..]) } else { k };
            self.rest = &b[end.max(1)..];
            return Some(Pair { key: &b[..end.max(1)], raw: b"", escaped: false, has_eq: false });
        }
        let v = &b[k + 1..];
        if v.first() == Some(&b'"') {
            let (end, escaped) = quoted_span(v);
            self.rest = &v[end..];
            Some(Pair { key, raw: inner(v, end), escaped, has_eq: true })
        } else {
            let end = bare_end(v);
            self.rest = &v[end..];
            Some(Pair { key, raw: &v[..end], escaped: false, has_eq: true })
        }
    }
}

fn hex(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// Decodes Go string escapes (`\"`, `\\`, `\n`, `\t`, `\xNN`, `\uNNNN`, `\UNNNNNNNN`, octal `\NNN`).
/// Borrowed when there is nothing to decode; an unknown escape is kept as written.
pub(crate) fn unquote(raw: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr::memchr(b'\\', raw) else {
        return Cow::Borrowed(raw);
    };
    let mut out = Vec::with_capacity(raw.len());
    let (mut i, mut next) = (0, Some(first));
    // Copy the text up to each backslash in one piece, then decode the escape it starts.
    while let Some(k) = next {
        out.extend_from_slice(&raw[i..k]);
        i = k + unescape(&raw[k..], &mut out);
        next = memchr::memchr(b'\\', &raw[i..]).map(|j| i + j);
    }
    out.extend_from_slice(&raw[i..]);
    Cow::Owned(out)
}

/// Decodes the escape at the start of `b` (a backslash) into `out`; returns the bytes it took.
fn unescape(b: &[u8], out: &mut Vec<u8>) -> usize {
    let Some(&e) = b.get(1) else {
        out.push(b'\\');
        return 1;
    };
    let simple = match e {
        b'n' => Some(b'\n'),
        b't' => Some(b'\t'),
        b'r' => Some(b'\r'),
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'v' => Some(11),
        b'\\' | b'"' | b'\'' | b'/' => Some(e),
        _ => None,
    };
    if let Some(s) = simple {
        out.push(s);
        return 2;
    }
    let width = match e {
        b'x' => 2,
        b'u' => 4,
        b'U' => 8,
        b'0'..=b'7' => 3,
        _ => 0,
    };
    let start = if e.is_ascii_digit() { 1 } else { 2 };
    let code = b.get(start..start + width).filter(|_| width > 0).and_then(|d| {
        d.iter().try_fold(0u32, |acc, &c| {
            if e.is_ascii_digit() {
                (b'0'..=b'7').contains(&c).then(|| acc * 8 + (c - b'0') as u32)
            } else {
                hex(c).map(|h| acc * 16 + h)
            }
        })
    });
    match code {
        Some(v) if e == b'x' || e.is_ascii_digit() => out.push(v as u8),
        Some(v) => {
            let ch = char::from_u32(v).unwrap_or('\u{fffd}');
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
        None => {
            // Not an escape: the backslash stays and the next byte is read as text.
            out.push(b'\\');
            return 1;
        }
    }
    start + width
}

/// Text of a decoded value: borrowed when it was borrowed and valid UTF-8.
pub(crate) fn cow_text(v: Cow<'_, [u8]>) -> Cow<'_, str> {
    match v {
        Cow::Borrowed(b) => text(b),
        Cow::Owned(o) => match String::from_utf8(o) {
            Ok(s) => Cow::Owned(s),
            Err(e) => Cow::Owned(text(e.as_bytes()).into_owned()),
        },
    }
}

/// Severity from a level word, in any case, without allocating (`info`, `WARN`, `error`, `fatal`, ...).
pub(crate) fn severity_word(w: &[u8]) -> Option<Severity> {
    // Lower-cased on the stack; no level word is longer than eight letters.
    let mut buf = [0u8; 8];
    let lower = buf.get_mut(..w.len())?;
    lower.copy_from_slice(w);
    lower.make_ascii_lowercase();
    Some(match &*lower {
        b"info" => Severity::Info,
        b"debug" | b"trace" => Severity::Debug,
        b"warning" | b"warn" => Severity::Warning,
        b"error" | b"err" => Severity::Err,
        b"fatal" | b"critical" | b"crit" => Severity::Crit,
        b"panic" | b"emerg" => Severity::Emerg,
        b"notice" | b"audit" => Severity::Notice,
        b"alert" => Severity::Alert,
        _ => return None,
    })
}

/// A logfmt time value: RFC 3339 (the whole value) or epoch seconds with an optional fraction.
pub(crate) fn parse_time(v: &[u8]) -> Option<RawTime> {
    if let Some((t, n)) = parse_iso(v) {
        return (n == v.len()).then_some(t);
    }
    let (int, frac) = match memchr::memchr(b'.', v) {
        Some(d) => (&v[..d], &v[d + 1..]),
        None => (v, &b""[..]),
    };
    // Epoch seconds: 9 or 10 digits cover 2001..2286; longer integers are milli/microseconds, not read.
    if !(9..=10).contains(&int.len()) {
        return None;
    }
    let secs = parse_u64(int)? as i64;
    let (nanos, n) = parse_fraction(frac);
    if n != frac.len() {
        return None;
    }
    Some(RawTime::Exact { unix_nanos: secs * 1_000_000_000 + nanos, offset_secs: 0 })
}

/// The severity a logfmt text states in its `level`/`lvl`/`severity` key, looking at its first pairs.
pub(crate) fn level_of(b: &[u8]) -> Option<Severity> {
    for p in Pairs::new(b).take(8) {
        if !p.has_eq {
            return None;
        }
        if matches!(p.key, b"level" | b"lvl" | b"severity") {
            return severity_word(p.raw);
        }
    }
    None
}

impl Parser for LogfmtParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        if trim(line).is_empty() {
            out.skip(at);
            return;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if self.have_record {
                out.attach(at, line);
            } else {
                out.unparsed(at, line);
            }
            return;
        }
        match parse_line(line, self.program.as_deref()) {
            Some(rec) => {
                self.have_record = true;
                out.record(at, rec);
            }
            None => out.unparsed(at, line),
        }
    }
}

fn parse_line<'a>(line: &'a [u8], path_program: Option<&'a str>) -> Option<Record<'a>> {
    if !line[0].is_ascii_alphabetic() && line[0] != b'_' {
        return None;
    }
    let mut rec = Record::default();
    let mut known = false;
    let mut logger: Option<&[u8]> = None;
    for p in Pairs::new(line) {
        if !p.has_eq || p.key.is_empty() {
            // A bare word in the middle: kept as a field with an empty value, but a line must start
            // with a pair.
            if !known && rec.fields.is_empty() {
                return None;
            }
            if rec.fields.len() < MAX_FIELDS {
                rec.fields.push((text(p.key), Cow::Borrowed("")));
            }
            continue;
        }
        match p.key {
            b"time" | b"ts" | b"timestamp" | b"t" if !rec.time.is_some() => {
                known = true;
                match parse_time(p.raw) {
                    Some(t) => rec.time = t,
                    None if rec.fields.len() < MAX_FIELDS => rec.fields.push((text(p.key), cow_text(p.value()))),
                    None => {}
                }
            }
            b"level" | b"lvl" | b"severity" if rec.severity.is_none() => {
                known = true;
                rec.severity = severity_word(p.raw);
            }
            b"msg" | b"message" if rec.message.is_empty() => {
                known = true;
                rec.message = p.value();
            }
            key => {
                if logger.is_none() && matches!(key, b"logger" | b"module" | b"component") {
                    logger = Some(p.raw);
                }
                if rec.fields.len() < MAX_FIELDS {
                    rec.fields.push((text(key), cow_text(p.value())));
                }
            }
        }
    }
    if !known {
        return None;
    }
    rec.program = Some(match (path_program, logger) {
        (Some(p), _) => Cow::Borrowed(p),
        (None, Some(l)) if !l.is_empty() => text(l),
        _ => Cow::Borrowed("logfmt"),
    });
    Some(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testing::{records, run, Got};

    fn ctx(path: &str) -> SourceCtx {
        SourceCtx { path: path.into(), ..SourceCtx::default() }
    }

    #[test]
    fn containerd_lines() {
        let got = run(
            parser(&ctx("/var/log/containerd.log")),
            "time=\"2025-10-13T19:46:12.123456789+09:00\" level=info msg=\"PullImage \\\"nova:2025.1\\\" returns image reference \\\"sha256:9f1c\\\"\" id=42\n\
             time=\"2025-10-13T19:56:05.5Z\" level=error msg=\"ExecSync for \\\"753ac7cfab3c\\\" failed\" error=\"rpc error: code = DeadlineExceeded\"\n",
        );
        let Got::Rec { time, program, severity, message, fields, .. } = &got[0] else { panic!("{got:?}") };
        assert_eq!(*time, RawTime::Exact { unix_nanos: 1_760_352_372_123_456_789, offset_secs: 32_400 });
        assert_eq!(program.as_deref(), Some("containerd"));
        assert_eq!(*severity, Some(Severity::Info));
        assert_eq!(message, "PullImage \"nova:2025.1\" returns image reference \"sha256:9f1c\"");
        assert_eq!(fields, &[("id".to_string(), "42".to_string())]);
        let Got::Rec { severity, fields, .. } = &got[1] else { panic!() };
        assert_eq!(*severity, Some(Severity::Err));
        assert_eq!(fields[0].1, "rpc error: code = DeadlineExceeded");
    }

    #[test]
    fn epoch_times_logger_and_bare_words() {
        let got = run(
            parser(&SourceCtx::default()),
            "ts=1760352372.25 lvl=warn logger=csi-attacher message=\"slow\" retry\nlevel=debug msg=no-time",
        );
        let r = records(&got);
        assert_eq!(r[0].0, RawTime::Exact { unix_nanos: 1_760_352_372_250_000_000, offset_secs: 0 });
        assert_eq!(r[0].1.as_deref(), Some("csi-attacher"));
        assert_eq!(r[0].2, "slow");
        assert_eq!((r[1].0, r[1].1.as_deref(), r[1].2.as_str()), (RawTime::None, Some("logfmt"), "no-time"));
    }

    #[test]
    fn panic_stack_attaches_and_garbage_is_unparsed() {
        let got = run(
            parser(&SourceCtx::default()),
            "\tbefore anything\ntime=\"2025-10-13T10:46:12Z\" level=fatal msg=boom\n\t/src/main.go:12 +0x1d\n\n<<>>\n",
        );
        assert!(matches!(got[0], Got::Unparsed(1, _)));
        assert!(matches!(got[1], Got::Rec { line: 2, severity: Some(Severity::Crit), .. }));
        assert_eq!(got[2], Got::Attach(3, "\t/src/main.go:12 +0x1d".into()));
        assert_eq!(got[3], Got::Skip(4));
        assert_eq!(got[4], Got::Unparsed(5, "<<>>".into()));
    }

    #[test]
    fn detection_and_near_misses() {
        assert!(detect(b"time=\"2025-10-13T19:46:12+09:00\" level=info msg=\"x\""));
        assert!(detect(b"level=info ts=2025-10-13T10:46:12.1Z msg=x"));
        // No time key, or an unreadable time: not detected (generic or another format claims it).
        assert!(!detect(b"level=info msg=x"));
        assert!(!detect(b"time=\"yesterday\" level=info msg=x"));
        assert!(!detect(b"I1013 19:56:01.123456    1234 prober.go:104] x=1"));
        assert!(!detect(b"PATH=/usr/bin HOME=/root"));
    }

    #[test]
    fn bare_values_span_brackets_and_quotes() {
        let pairs = |b: &'static [u8]| Pairs::new(b).map(|p| (p.key, p.raw)).collect::<Vec<_>>();
        assert_eq!(
            pairs(b"cmd=[\"virsh list\",{\"a]\" b}] ev={ID:1 Type:x}\tn=1 odd=a]b\"c d"),
            vec![
                (&b"cmd"[..], &b"[\"virsh list\",{\"a]\" b}]"[..]),
                (b"ev", b"{ID:1 Type:x}"),
                (b"n", b"1"),
                (b"odd", b"a]b\"c"),
                (b"d", b""),
            ]
        );
        // An unclosed bracket runs to the end; so does an unclosed quote inside one.
        assert_eq!(pairs(b"a={x y"), vec![(&b"a"[..], &b"{x y"[..])]);
        assert_eq!(pairs(b"a=[\"x y"), vec![(&b"a"[..], &b"[\"x y"[..])]);
    }

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(&*unquote(br#"a\"b\\c\n\x41\u00e9\101"#), "a\"b\\c\nA\u{e9}A".as_bytes());
        assert_eq!(&*unquote(br"trailing\"), br"trailing\");
        assert!(matches!(unquote(b"plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn level_words_in_any_case() {
        for (w, sev) in [
            ("info", Severity::Info),
            ("INFO", Severity::Info),
            ("Warning", Severity::Warning),
            ("warn", Severity::Warning),
            ("eRR", Severity::Err),
            ("trace", Severity::Debug),
            ("CRITICAL", Severity::Crit),
            ("panic", Severity::Emerg),
            ("audit", Severity::Notice),
            ("alert", Severity::Alert),
            ("emerg", Severity::Emerg),
        ] {
            assert_eq!(severity_word(w.as_bytes()), Some(sev), "{w}");
        }
        for w in ["", "inf", "infos", "criticals", "warning!", "informational", "\u{e9}rror"] {
            assert_eq!(severity_word(w.as_bytes()), None, "{w}");
        }
    }

    #[test]
    fn escapes_decode_in_runs() {
        // Every kind of escape, next to text, to each other and at the end; odd ones stay as written.
        let cases: &[(&[u8], &[u8])] = &[
            (br#"say \"hi\" now"#, b"say \"hi\" now"),
            (br"\\\\\n", b"\\\\\n"),
            (br"a\q\nb", b"a\\q\nb"),
            (br"\8\9\18", b"\\8\\9\\18"),
            (br"\x4", b"\\x4"),
            (br"\x4g\x7e", b"\\x4g~"),
            (br"\u00e9\U0001F600\UFFFFFFFF", "\u{e9}\u{1F600}\u{fffd}".as_bytes()),
            (br"\u00", b"\\u00"),
            (br"\101\1017\777", b"AA7\xff"),
            (br"\a\b\f\v\r\t\'\/", b"\x07\x08\x0c\x0b\r\t'/"),
            (br"end\", b"end\\"),
            (br"\", b"\\"),
        ];
        for (raw, want) in cases {
            assert_eq!(&*unquote(raw), *want, "{}", String::from_utf8_lossy(raw));
        }
    }
}
