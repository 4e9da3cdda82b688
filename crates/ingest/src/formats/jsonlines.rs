//! JSON records from log stores: one JSON object per line, or one JSON document over many lines.
//!
//! Shapes read:
//! - an OpenSearch/Elasticsearch export, one hit per line, the record under `_source` or at top level;
//! - a `_search` response (`{"took":..,"hits":{"hits":[{"_source":{..}},..]}}`), compact or pretty-printed
//!   over many lines: it is streamed (see [`JsonStream`]) and each hit becomes one record at the line
//!   where the hit starts;
//! - Fluent Bit / Fluentd records (`{"date": 1760352960.123, "log": "...", "kubernetes": {...}}`) and the
//!   forward-protocol array form `[1760352960.123, {...}]`.
//!
//! Default mapping (each overridable with `--json-field NAME=PATH`, see [`SourceCtx::json_fields`]): time
//! from `@timestamp`, `time`, `timestamp`, `date`; message from `message`, `log`, `msg`, `MESSAGE`; host
//! from `host.name`, `hostname`, `host`, `kubernetes.host`; program from `kubernetes.container_name`,
//! `program`, `ident`, `syslog.identifier`; severity from `log.level`, `level`, `severity`; fields `pod`,
//! `namespace`, `container`, `container_id`. RFC 3339 strings are exact times, numbers are epoch
//! seconds (milliseconds when above 1e11), stamps without an offset are naive local times.
//!
//! See: Elasticsearch "Search API" response body (`hits.hits[]._source`), Elastic Common Schema
//! (`@timestamp`, `host.name`, `log.level`), Fluent Bit `kubernetes` filter record layout, Fluentd
//! forward protocol (`[time, record]` entries).

use std::borrow::Cow;

use rootline_event::Severity;
use serde_json::Value;

use super::util::trim;
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::parse_iso;
use crate::time::RawTime;

/// Bytes buffered for one multi-line JSON item before it is given up on (and counted as unparsed).
pub(crate) const MAX_ITEM_BYTES: usize = 16 << 20;

/// True when `line` looks like a JSON log record or a line of a pretty-printed `_search` response.
pub fn detect(line: &[u8]) -> bool {
    let t = trim(line);
    if t.len() >= 2 && t[0] == b'{' && t[t.len() - 1] == b'}' {
        return memchr::memchr(b'"', t).is_some() && memchr::memchr(b':', t).is_some();
    }
    if t.len() >= 4 && t[0] == b'[' && t[1].is_ascii_digit() && t[t.len() - 1] == b']' {
        return memchr::memmem::find(t, b", {").is_some() || memchr::memmem::find(t, b",{").is_some();
    }
    const KEYS: &[&[u8]] = &[
        b"\"_source\"",
        b"\"_index\"",
        b"\"_id\"",
        b"\"_score\"",
        b"\"_type\"",
        b"\"_shards\"",
        b"\"took\"",
        b"\"timed_out\"",
        b"\"hits\"",
        b"\"max_score\"",
        b"\"@timestamp\"",
    ];
    KEYS.iter().any(|k| t.starts_with(k))
}

/// A small bonus for `.json`, `.jsonl` and `.ndjson` files.
pub fn path_hint(path: &str) -> f32 {
    let p = path.to_ascii_lowercase();
    let p = p.trim_end_matches(".gz").trim_end_matches(".zst");
    if p.ends_with(".jsonl") || p.ends_with(".ndjson") || p.ends_with(".json") {
        0.1
    } else {
        0.0
    }
}

/// A JSON lines parser.
pub fn parser(ctx: &SourceCtx) -> Box<dyn Parser> {
    Box::new(JsonLinesParser { stream: JsonStream::default(), map: Mapping::new(&ctx.json_fields) })
}

// ---------------------------------------------------------------------------------------------------
// Streaming JSON splitter (shared with the Kubernetes events parser).

/// A finished piece of a streamed JSON document.
pub(crate) enum Done<'b> {
    /// A complete object: an item of an array, or a top-level object with no array of objects inside.
    Item {
        /// Where the object starts.
        at: LinePos,
        /// Its bytes (lines joined with `\n`).
        json: &'b [u8],
    },
    /// An object larger than [`MAX_ITEM_BYTES`]: its first line only.
    Oversized {
        /// Where the object starts.
        at: LinePos,
        /// The start of its first line.
        first: &'b [u8],
    },
    /// A top-level wrapper object (a `List`, a `_search` response) that turned out to hold items; the
    /// line where it started carries no record of its own.
    Wrapper {
        /// Where the wrapper starts.
        at: LinePos,
    },
}

/// What a line was, for the caller's accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineKind {
    /// An object started on this line (it was reported through `Done`, or is still open).
    Claimed,
    /// Only structure or the middle of an object: a skip.
    Structure,
    /// Text outside any JSON value.
    Garbage,
}

struct Collect {
    at: LinePos,
    /// Depth before the object's `{`: it closes when the depth returns here.
    depth: usize,
    top: bool,
    over: bool,
}

/// What a parser does with one complete JSON item: its line, its bytes, the sink.
pub(crate) type ItemFn<'a> = dyn FnMut(LinePos, &[u8], &mut dyn Sink) + 'a;

/// Finds the objects of a JSON document as its lines stream by, tracking nesting outside strings.
///
/// An object is reported when it closes, at the line where it opened: each object that opens inside an
/// array (the `items` of a Kubernetes `List`, the `hits` of a `_search` response, the elements of a
/// top-level array), and each top-level object that holds no such array (one JSON record, compact or
/// pretty). At most [`MAX_ITEM_BYTES`] are buffered for one object.
#[derive(Default)]
pub(crate) struct JsonStream {
    stack: Vec<u8>,
    depth: usize,
    coll: Option<Collect>,
    buf: Vec<u8>,
    first: Vec<u8>,
}

const MAX_STACK: usize = 1024;
const MAX_FIRST: usize = 4096;

impl JsonStream {
    fn innermost(&self) -> u8 {
        if self.depth > self.stack.len() {
            b'{'
        } else {
            self.stack.last().copied().unwrap_or(0)
        }
    }

    /// Feeds one line; finished objects go to `done`.
    pub(crate) fn feed(&mut self, at: LinePos, line: &[u8], done: &mut dyn FnMut(Done<'_>)) -> LineKind {
        let mut kind = LineKind::Structure;
        let mut seg_start = 0usize;
        let mut in_str = false;
        let mut esc = false;
        let mut i = 0usize;
        while i < line.len() {
            let c = line[i];
            if in_str {
                if esc {
                    esc = false;
                } else if c == b'\\' {
                    esc = true;
                } else if c == b'"' {
                    in_str = false;
                }
                i += 1;
                continue;
            }
            match c {
                b'"' if self.depth > 0 => in_str = true,
                b'{' | b'[' => {
                    if c == b'{' {
                        let in_array = self.innermost() == b'[';
                        match &self.coll {
                            None if self.depth == 0 || in_array => {
                                self.start(at, line, i, self.depth == 0);
                                seg_start = i;
                                kind = LineKind::Claimed;
                            }
                            Some(cl) if cl.top && in_array => {
                                // The wrapper holds items: drop it and collect the item instead.
                                if cl.at.line != at.line {
                                    done(Done::Wrapper { at: cl.at });
                                }
                                self.coll = None;
                                self.start(at, line, i, false);
                                seg_start = i;
                                kind = LineKind::Claimed;
                            }
                            _ => {}
                        }
                    }
                    if self.stack.len() < MAX_STACK {
                        self.stack.push(c);
                    }
                    self.depth += 1;
                }
                b'}' | b']' => {
                    if self.depth == 0 {
                        // A line whose item already closed (`{]]`) was told once, with its item.
                        return if kind == LineKind::Claimed { kind } else { LineKind::Garbage };
                    }
                    if self.depth <= self.stack.len() {
                        self.stack.pop();
                    }
                    self.depth -= 1;
                    if self.coll.as_ref().is_some_and(|cl| cl.depth == self.depth) {
                        self.close(at, &line[seg_start..=i], done);
                        if kind != LineKind::Claimed {
                            // An object from an earlier line closed here; this line itself is structure.
                        }
                    }
                }
                b' ' | b'\t' | b',' | b'\r' => {}
                _ if self.depth == 0 => return if kind == LineKind::Claimed { kind } else { LineKind::Garbage },
                _ => {}
            }
            i += 1;
        }
        if let Some(cl) = &mut self.coll {
            if !cl.over {
                let seg = &line[seg_start.min(line.len())..];
                if self.buf.len() + seg.len() + 1 > MAX_ITEM_BYTES {
                    cl.over = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(seg);
                    self.buf.push(b'\n');
                }
            }
        }
        kind
    }

    fn start(&mut self, at: LinePos, line: &[u8], i: usize, top: bool) {
        self.coll = Some(Collect { at, depth: self.depth, top, over: false });
        self.buf.clear();
        self.first.clear();
        self.first.extend_from_slice(&line[i..line.len().min(i + MAX_FIRST)]);
    }

    fn close(&mut self, _at: LinePos, tail: &[u8], done: &mut dyn FnMut(Done<'_>)) {
        let Some(cl) = self.coll.take() else { return };
        if cl.over || self.buf.len() + tail.len() > MAX_ITEM_BYTES {
            done(Done::Oversized { at: cl.at, first: &self.first });
        } else if self.buf.is_empty() {
            done(Done::Item { at: cl.at, json: tail });
        } else {
            self.buf.extend_from_slice(tail);
            done(Done::Item { at: cl.at, json: &self.buf });
        }
        self.buf.clear();
        if self.buf.capacity() > 1 << 20 {
            self.buf = Vec::new();
        }
    }

    /// At the end of input: an object still open is reported as oversized/truncated.
    pub(crate) fn finish(&mut self, done: &mut dyn FnMut(Done<'_>)) {
        if let Some(cl) = self.coll.take() {
            done(Done::Oversized { at: cl.at, first: &self.first });
        }
    }

    /// [`JsonStream::feed`] for a parser: each complete item goes to `item` (with the sink), and every
    /// other outcome is told to the sink the one way all JSON parsers tell it (oversized items and
    /// garbage are unparsed, wrapper and structure lines are skipped).
    pub(crate) fn feed_to(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink, item: &mut ItemFn<'_>) {
        let kind = self.feed(at, line, &mut |d| match d {
            Done::Item { at, json } => item(at, json, out),
            Done::Oversized { at, first } => out.unparsed(at, first),
            Done::Wrapper { at } => out.skip(at),
        });
        match kind {
            LineKind::Claimed => {}
            LineKind::Structure => out.skip(at),
            LineKind::Garbage => out.unparsed(at, line),
        }
    }

    /// [`JsonStream::finish`] for a parser: an item cut short by the end of input is unparsed.
    pub(crate) fn finish_to(&mut self, out: &mut dyn Sink) {
        self.finish(&mut |d| match d {
            Done::Oversized { at, first } | Done::Item { at, json: first } => out.unparsed(at, first),
            Done::Wrapper { at } => out.skip(at),
        });
    }
}

// ---------------------------------------------------------------------------------------------------
// Mapping a JSON record to a Record.

/// Looks up a dotted path: the literal key first (`"host.name": ..` in flattened exports), then nested.
pub(crate) fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    if let Some(x) = v.get(path) {
        return Some(x);
    }
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

/// A JSON value as text: strings as they are, other scalars printed; objects, arrays and null: None.
pub(crate) fn scalar(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// A time from a JSON value: RFC 3339 / naive strings, or epoch seconds (milliseconds above 1e11).
pub(crate) fn time_of(v: &Value) -> RawTime {
    match v {
        Value::String(s) => parse_iso(s.as_bytes()).map(|(t, _)| t).unwrap_or(RawTime::None),
        Value::Number(n) => {
            let nanos = if let Some(i) = n.as_i64() {
                if i.unsigned_abs() > 100_000_000_000 {
                    i.checked_mul(1_000_000)
                } else {
                    i.checked_mul(1_000_000_000)
                }
            } else if let Some(nanos) = decimal_nanos(&n.to_string()) {
                Some(nanos)
            } else {
                n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e16).map(|f| {
                    let secs = if f.abs() > 1e11 { f / 1000.0 } else { f };
                    let whole = secs.floor();
                    whole as i64 * 1_000_000_000 + ((secs - whole) * 1e9).round() as i64
                })
            };
            nanos.map(|unix_nanos| RawTime::Exact { unix_nanos, offset_secs: 0 }).unwrap_or(RawTime::None)
        }
        _ => RawTime::None,
    }
}

/// `1760352960.123` (seconds) or `1760352960123.5` (milliseconds) read exactly from its digits.
fn decimal_nanos(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.')?;
    let whole = super::util::parse_u64(int.as_bytes())? as i64;
    let (f, k) = crate::time::civil::parse_fraction(frac.as_bytes());
    if k != frac.len() {
        return None;
    }
    if whole > 100_000_000_000 {
        // Milliseconds: the fraction is of a millisecond.
        whole.checked_mul(1_000_000)?.checked_add(f / 1000)
    } else {
        whole.checked_mul(1_000_000_000)?.checked_add(f)
    }
}

/// Which JSON paths feed which record part.
#[derive(Debug, Clone)]
struct Mapping {
    time: Vec<String>,
    message: Vec<String>,
    host: Vec<String>,
    program: Vec<String>,
    severity: Vec<String>,
    pod: Vec<String>,
    namespace: Vec<String>,
    container: Vec<String>,
}

fn paths(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Mapping {
    fn new(overrides: &[(String, String)]) -> Self {
        let mut m = Mapping {
            time: paths(&["@timestamp", "time", "timestamp", "date"]),
            message: paths(&["message", "log", "msg", "MESSAGE"]),
            host: paths(&["host.name", "hostname", "host", "kubernetes.host"]),
            program: paths(&[
                "kubernetes.container_name",
                "program",
                "ident",
                "syslog.identifier",
                "SYSLOG_IDENTIFIER",
            ]),
            severity: paths(&["log.level", "level", "severity"]),
            pod: paths(&["kubernetes.pod_name"]),
            namespace: paths(&["kubernetes.namespace_name"]),
            container: paths(&["kubernetes.container_name", "container_name"]),
        };
        for (name, path) in overrides {
            let slot = match name.as_str() {
                "time" => &mut m.time,
                "message" => &mut m.message,
                "host" => &mut m.host,
                "program" => &mut m.program,
                "severity" => &mut m.severity,
                "pod" => &mut m.pod,
                "namespace" => &mut m.namespace,
                "container" => &mut m.container,
                _ => continue,
            };
            *slot = vec![path.clone()];
        }
        m
    }

    fn first<'v>(list: &[String], v: &'v Value, want: fn(&Value) -> bool) -> Option<&'v Value> {
        list.iter().filter_map(|p| lookup(v, p)).find(|x| want(x))
    }

    fn text<'v>(list: &[String], v: &'v Value) -> Option<Cow<'v, str>> {
        Self::first(list, v, |x| x.is_string() || x.is_number()).and_then(scalar)
    }

    /// Maps one record object (already unwrapped from `_source`); `time` overrides its own time.
    fn record<'v>(&self, v: &'v Value, time: Option<RawTime>, raw: &'v [u8]) -> Record<'v> {
        let time = time.unwrap_or_else(|| {
            self.time.iter().filter_map(|p| lookup(v, p)).map(time_of).find(RawTime::is_some).unwrap_or_default()
        });
        let message: Cow<'v, [u8]> = match Self::text(&self.message, v) {
            Some(Cow::Borrowed(s)) => Cow::Borrowed(s.strip_suffix('\n').unwrap_or(s).as_bytes()),
            Some(Cow::Owned(s)) => Cow::Owned(s.into_bytes()),
            None => Cow::Borrowed(trim(raw)),
        };
        let mut rec = Record { time, message, ..Record::default() };
        rec.host = Self::text(&self.host, v);
        rec.program = Self::text(&self.program, v);
        rec.severity = Self::text(&self.severity, v).and_then(|s| Severity::from_word(&s));
        let mut push = |k: &'static str, val: Option<Cow<'v, str>>| {
            if let Some(val) = val.filter(|s| !s.is_empty()) {
                rec.fields.push((Cow::Borrowed(k), val));
            }
        };
        push("pod", Self::text(&self.pod, v));
        push("namespace", Self::text(&self.namespace, v));
        push("container", Self::text(&self.container, v));
        let cid = ["kubernetes.docker_id", "kubernetes.container_id", "container_id"]
            .iter()
            .find_map(|p| lookup(v, p).and_then(scalar));
        push("container_id", cid);
        push("stream", lookup(v, "stream").and_then(scalar));
        rec
    }
}

struct JsonLinesParser {
    stream: JsonStream,
    map: Mapping,
}

/// Emits the record for one complete JSON text (a hit, a record, or a `[time, record]` pair).
fn emit(map: &Mapping, at: LinePos, json: &[u8], out: &mut dyn Sink) {
    let v: Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(_) => {
            out.unparsed(at, first_line(json));
            return;
        }
    };
    let (obj, time) = match &v {
        Value::Array(a) if a.len() == 2 && a[0].is_number() && a[1].is_object() => (&a[1], Some(time_of(&a[0]))),
        Value::Object(_) => (&v, None),
        _ => {
            out.unparsed(at, first_line(json));
            return;
        }
    };
    let src = obj.get("_source").filter(|s| s.is_object()).unwrap_or(obj);
    let rec = map.record(src, time, json);
    out.record(at, rec);
}

fn first_line(b: &[u8]) -> &[u8] {
    &b[..memchr::memchr(b'\n', b).unwrap_or(b.len())]
}

impl Parser for JsonLinesParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        let t = trim(line);
        // Fluentd forward form: `[1760352960.123, {...}]` on one line.
        if t.first() == Some(&b'[') && t.get(1).is_some_and(u8::is_ascii_digit) && t.last() == Some(&b']') {
            emit(&self.map, at, t, out);
            return;
        }
        let map = &self.map;
        self.stream.feed_to(at, line, out, &mut |at, json, out| emit(map, at, json, out));
    }

    fn finish(&mut self, out: &mut dyn Sink) {
        self.stream.finish_to(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testing::{records, run, Got};

    fn p() -> Box<dyn Parser> {
        parser(&SourceCtx::default())
    }

    #[test]
    fn opensearch_export_lines() {
        let got = run(
            p(),
            r#"{"_index":"logs-2025.10.13","_id":"a1","_source":{"@timestamp":"2025-10-13T10:51:02.123Z","message":"mpathb: remaining active paths: 0","host":{"name":"s-dcn37-com604-krw1a"},"log":{"level":"warning"},"kubernetes":{"pod_name":"libvirt-libvirt-default-x7k2p","namespace_name":"openstack","container_name":"libvirt","docker_id":"4f2f"}}}
{"@timestamp":"2025-10-13T19:51:03+09:00","message":"plain top level","hostname":"s-dcn37-com604-krw1a","program":"multipathd"}"#,
        );
        let Got::Rec { time, host, program, severity, message, fields, .. } = &got[0] else { panic!("{got:?}") };
        assert_eq!(*time, RawTime::Exact { unix_nanos: 1_760_352_662_123_000_000, offset_secs: 0 });
        assert_eq!(host.as_deref(), Some("s-dcn37-com604-krw1a"));
        assert_eq!(program.as_deref(), Some("libvirt"));
        assert_eq!(*severity, Some(Severity::Warning));
        assert_eq!(message, "mpathb: remaining active paths: 0");
        assert!(fields.contains(&("pod".into(), "libvirt-libvirt-default-x7k2p".into())));
        assert!(fields.contains(&("namespace".into(), "openstack".into())));
        assert!(fields.contains(&("container_id".into(), "4f2f".into())));
        let Got::Rec { program, time, .. } = &got[1] else { panic!() };
        assert_eq!(program.as_deref(), Some("multipathd"));
        assert!(matches!(time, RawTime::Exact { offset_secs: 32_400, .. }));
    }

    #[test]
    fn pretty_search_response_one_record_per_hit() {
        let text = r#"{
  "took" : 3,
  "timed_out" : false,
  "hits" : {
    "total" : { "value" : 2, "relation" : "eq" },
    "hits" : [
      {
        "_index" : "logs",
        "_source" : { "@timestamp" : "2025-10-13T10:51:02Z", "message" : "first" }
      },
      {
        "_index" : "logs",
        "_source" : {
          "@timestamp" : "2025-10-13T10:51:03Z",
          "message" : "second"
        }
      }
    ]
  }
}"#;
        let got = run(p(), text);
        let recs: Vec<&Got> = got.iter().filter(|g| matches!(g, Got::Rec { .. })).collect();
        assert_eq!(recs.len(), 2);
        assert!(matches!(recs[0], Got::Rec { line: 7, .. }));
        assert!(matches!(recs[1], Got::Rec { line: 11, .. }));
        assert_eq!(records(&got)[1].2, "second");
        assert!(!got.iter().any(|g| matches!(g, Got::Unparsed(..))));
        let skips = got.iter().filter(|g| matches!(g, Got::Skip(_))).count();
        assert_eq!(skips + 2, text.lines().count());
    }

    #[test]
    fn fluent_records_and_mapping_overrides() {
        let got = run(
            p(),
            "{\"date\": 1760352960.123, \"log\": \"I/O error, dev dm-21\\n\", \"stream\": \"stderr\", \"kubernetes\": {\"host\": \"s-dcn37-com604-krw1a\", \"pod_name\": \"libvirt-libvirt-default-x7k2p\"}}\n\
             [1760352961.5, {\"message\": \"forward form\"}]\n\
             {\"time\": 1760352962000, \"msg\": \"millis\", \"severity\": \"ERROR\"}\n",
        );
        let Got::Rec { time, message, host, fields, .. } = &got[0] else { panic!("{got:?}") };
        assert_eq!(*time, RawTime::Exact { unix_nanos: 1_760_352_960_123_000_000, offset_secs: 0 });
        assert_eq!(message, "I/O error, dev dm-21");
        assert_eq!(host.as_deref(), Some("s-dcn37-com604-krw1a"));
        assert!(fields.contains(&("stream".into(), "stderr".into())));
        let r = records(&got);
        assert_eq!(r[1].0, RawTime::Exact { unix_nanos: 1_760_352_961_500_000_000, offset_secs: 0 });
        assert_eq!(r[2].0, RawTime::Exact { unix_nanos: 1_760_352_962_000_000_000, offset_secs: 0 });

        let ctx = SourceCtx {
            json_fields: std::sync::Arc::new(vec![
                ("message".into(), "payload.text".into()),
                ("host".into(), "node".into()),
                ("time".into(), "ts".into()),
            ]),
            ..SourceCtx::default()
        };
        let got = run(
            parser(&ctx),
            r#"{"ts":"2025-10-13 19:51:02","node":"n1","payload":{"text":"mapped"},"message":"ignored"}"#,
        );
        let Got::Rec { time, host, message, .. } = &got[0] else { panic!() };
        assert!(matches!(time, RawTime::Naive { .. }));
        assert_eq!((host.as_deref(), message.as_str()), (Some("n1"), "mapped"));
    }

    #[test]
    fn near_misses_garbage_and_caps() {
        assert!(detect(br#"{"@timestamp":"2025-10-13T10:51:02Z","message":"x"}"#));
        assert!(!detect(b"{not json}"));
        assert!(!detect(b"Oct 13 19:51:02 host prog: {\"a\":1}"));
        assert!(!detect(b"[12345.678901] kernel"));
        let got = run(p(), "hello\n{\"a\": tru}\n}\n{\"a\":1} trailing\n");
        assert_eq!(got[0], Got::Unparsed(1, "hello".into()));
        assert!(matches!(got[1], Got::Unparsed(2, _)));
        assert!(matches!(got[2], Got::Unparsed(3, _)));
        assert!(got.iter().any(|g| matches!(g, Got::Rec { line: 4, .. })));
        // An unterminated document is reported once, at its start.
        let got = run(p(), "{\n\"a\": 1,\n");
        assert_eq!(got.iter().filter(|g| matches!(g, Got::Unparsed(1, _))).count(), 1);
        // A closing bracket after an item closed on the same line: the line is told once, with
        // its item (it was told twice, as the item and as garbage).
        let got = run(p(), "{]]\n{\"a\":1}]\n");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(matches!(got[0], Got::Unparsed(1, _)), "{got:?}");
        assert!(matches!(got[1], Got::Rec { line: 2, .. }), "{got:?}");
    }

    #[test]
    fn oversized_item_is_unparsed() {
        let mut s = JsonStream::default();
        let big = vec![b'1'; 1 << 20];
        let mut line = b"[{\"a\": [".to_vec();
        let mut n = 0;
        let mut over = 0;
        s.feed(LinePos { line: 1, offset: 0 }, &line, &mut |_| {});
        line.clear();
        line.extend_from_slice(&big);
        line.push(b',');
        for i in 0..20 {
            s.feed(LinePos { line: 2 + i, offset: 0 }, &line, &mut |_| n += 1);
        }
        s.feed(LinePos { line: 30, offset: 0 }, b"1]}]", &mut |d| {
            if let Done::Oversized { at, .. } = d {
                assert_eq!(at.line, 1);
                over += 1;
            }
        });
        assert_eq!((n, over), (0, 1));
    }
}
