//! Kubernetes events in the forms operators save them.
//!
//! Shapes read:
//! - `kubectl get events -o json`: a `List` document over many lines (or one event object, or one
//!   object per line); streamed with [`super::jsonlines::JsonStream`] so each item is parsed when it
//!   closes and gets the line where it starts; at most 16 MiB are buffered for one item;
//! - `kubectl get events -o yaml`: the `- apiVersion: v1` blocks under `items:` (or one event document),
//!   each parsed with serde-saphyr (no snippet is rendered for a block that does not parse: it is counted
//!   as unparsed);
//! - the table (`LAST SEEN   TYPE      REASON      OBJECT   MESSAGE`, with or without `NAMESPACE`, the
//!   wide and the old `LASTSEEN FIRSTSEEN COUNT NAME KIND ...` layouts), ages like `5m`, `2d3h`,
//!   `<unknown>`;
//! - the `Events:` section of `kubectl describe pod` (`Type Reason Age From Message`, ages like
//!   `5m (x12 over 40m)`), the pod and namespace taken from the `Name:` / `Namespace:` lines above it.
//!
//! Times: `lastTimestamp`, `eventTime`, `series.lastObservedTime`, `firstTimestamp`,
//! `metadata.creationTimestamp` (RFC 3339) for JSON and YAML; relative ages are measured back from
//! `--now`, else from the file's time, else the record has no time; a time from an age is
//! [`RawTime::Approx`] (an age is rounded, and its reference is only the capture's time).
//!
//! Also read: the rows of the `kubectl describe` event table before 1.10 (`FirstSeen LastSeen Count
//! From SubobjectPath [Type] Reason Message`), tab- or space-separated, with RFC 1123 dates (2015) or
//! ages, with their count and the container of the SubobjectPath.
//!
//! See: Kubernetes API reference "Event v1 core" (`involvedObject`, `source`, `reportingComponent`),
//! kubectl `get` table printer (columns padded with three spaces) and `describe` event table,
//! k8s.io/apimachinery `duration.HumanDuration` (age formatting).

use std::borrow::Cow;

use rootline_event::Severity;
use serde_json::Value;

use super::jsonlines::{lookup, scalar, time_of, JsonStream, MAX_ITEM_BYTES};
use super::util::{parse_u64, text, trim};
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::RawTime;

/// True when `line` looks like part of any supported events shape.
pub fn detect(line: &[u8]) -> bool {
    let t = trim(line);
    const KEYS: &[&[u8]] = &[
        b"\"involvedObject\"",
        b"\"firstTimestamp\"",
        b"\"lastTimestamp\"",
        b"\"eventTime\"",
        b"\"reportingComponent\"",
        b"\"reportingInstance\"",
        b"\"reason\"",
        b"\"fieldPath\"",
        b"\"count\"",
        b"\"kind\": \"Event\"",
        b"\"kind\": \"EventList\"",
        b"\"type\": \"Normal\"",
        b"\"type\": \"Warning\"",
        b"\"source\": {",
        b"\"component\"",
        b"involvedObject:",
        b"firstTimestamp:",
        b"lastTimestamp:",
        b"eventTime:",
        b"reportingComponent:",
        b"reportingInstance:",
        b"reason:",
        b"fieldPath:",
        b"kind: Event",
        b"type: Normal",
        b"type: Warning",
        b"component:",
    ];
    if KEYS.iter().any(|k| t.starts_with(k)) || memchr::memmem::find(t, b"\"involvedObject\":").is_some() {
        return true;
    }
    if is_header(line).is_some() {
        return true;
    }
    const DESCRIBE: &[&[u8]] = &[
        b"Namespace:",
        b"Priority:",
        b"Service Account:",
        b"Node:",
        b"Start Time:",
        b"Labels:",
        b"Annotations:",
        b"Controlled By:",
        b"Containers:",
        b"Init Containers:",
        b"Conditions:",
        b"Volumes:",
        b"QoS Class:",
        b"Node-Selectors:",
        b"Tolerations:",
        b"Events:",
    ];
    if DESCRIBE.iter().any(|k| line.starts_with(k)) {
        return true;
    }
    looks_like_row(t) || legacy_row(line).is_some()
}

/// A bonus for names that say they hold events or describe output.
pub fn path_hint(path: &str) -> f32 {
    let base = path.rsplit(['/', '!']).next().unwrap_or(path).to_ascii_lowercase();
    if base.contains("event") || base.contains("describe") {
        0.2
    } else {
        0.0
    }
}

/// A Kubernetes events parser; relative ages are measured from `ctx.now`, else `ctx.mtime`.
pub fn parser(ctx: &SourceCtx) -> Box<dyn Parser> {
    Box::new(K8sParser { anchor: ctx.now.or(ctx.mtime), ..K8sParser::default() })
}

/// An event table row: an age, `Normal`/`Warning`, a reason, (an object or a source), a message.
fn looks_like_row(t: &[u8]) -> bool {
    let mut w = t.split(|c| *c == b' ').filter(|w| !w.is_empty());
    let words: [&[u8]; 4] =
        [w.next().unwrap_or(b""), w.next().unwrap_or(b""), w.next().unwrap_or(b""), w.next().unwrap_or(b"")];
    let is_type = |x: &[u8]| x == b"Normal" || x == b"Warning";
    // table: AGE TYPE REASON OBJECT / NAMESPACE AGE TYPE REASON
    if parse_age(words[0]).is_some() && is_type(words[1]) && memchr::memchr(b'/', words[3]).is_some() {
        return true;
    }
    if parse_age(words[1]).is_some() && is_type(words[2]) && !words[3].is_empty() {
        return true;
    }
    // describe: TYPE REASON AGE FROM
    is_type(words[0]) && parse_age(words[2]).is_some()
}

/// An age as kubectl prints it (`45s`, `5m`, `2d3h`, `3m20s`, `2y`), in seconds; `<unknown>` is 0 with
/// `None` time later (see [`age_time`]).
fn parse_age(w: &[u8]) -> Option<Option<i64>> {
    if w == b"<unknown>" || w == b"<invalid>" {
        return Some(None);
    }
    if w.is_empty() || !w[0].is_ascii_digit() {
        return None;
    }
    let (mut total, mut n, mut any) = (0i64, 0i64, false);
    for &c in w {
        if c.is_ascii_digit() {
            n = n.checked_mul(10)?.checked_add((c - b'0') as i64)?;
            any = true;
            continue;
        }
        let unit = match c {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            b'y' => 365 * 86_400,
            _ => return None,
        };
        if !any {
            return None;
        }
        total = total.checked_add(n.checked_mul(unit)?)?;
        (n, any) = (0, false);
    }
    (!any && total >= 0).then_some(Some(total))
}

/// A row of the `kubectl describe` event table before Kubernetes 1.10 (no header needed):
/// `FirstSeen LastSeen Count From SubobjectPath [Type] Reason Message`, the cells separated by tabs
/// (2015-2017) or spaces. FirstSeen and LastSeen are ages (`16m`, `<invalid>`) or, in 2015, dates
/// (`Tue, 07 Apr 2015 12:08:30 -0700`); From is braced (`{kubelet 127.0.0.1}`); SubobjectPath
/// (`spec.containers{nginx}`) and Type (`Normal`/`Warning`, from 1.3) may be absent.
/// See: kubectl pkg/kubectl/describe.go DescribeEvents (1.0-1.9).
struct LegacyRow<'a> {
    last: LegacySeen<'a>,
    count: &'a [u8],
    from: &'a [u8],
    sub: Option<&'a [u8]>,
    ty: Option<&'a [u8]>,
    reason: &'a [u8],
    message: &'a [u8],
}

enum LegacySeen<'a> {
    Age(Option<Option<i64>>),
    Date(&'a [u8]),
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The next cell after `i` (runs of blanks separate cells): (start, end).
fn next_word(b: &[u8], mut i: usize) -> Option<(usize, usize)> {
    while i < b.len() && is_blank(b[i]) {
        i += 1;
    }
    let start = i;
    while i < b.len() && !is_blank(b[i]) {
        i += 1;
    }
    (start < i).then_some((start, i))
}

fn legacy_row(line: &[u8]) -> Option<LegacyRow<'_>> {
    let open = memchr::memchr(b'{', line)?;
    let close = open + memchr::memchr(b'}', &line[open..])?;
    // Before the braces: FirstSeen, LastSeen, Count.
    let head = trim(&line[..open]);
    let words: Vec<&[u8]> = head.split(|c| is_blank(*c)).filter(|w| !w.is_empty()).collect();
    let (count, seen) = words.split_last()?;
    if parse_u64(count).is_none() || seen.len() < 2 || seen.len() % 2 != 0 {
        return None;
    }
    let last = if seen.len() == 2 {
        parse_age(seen[0])?;
        LegacySeen::Age(Some(parse_age(seen[1])?))
    } else {
        // Two dates of the same shape: LastSeen is the second half.
        let start = seen[seen.len() / 2].as_ptr() as usize - head.as_ptr() as usize;
        let date = &head[start..];
        crate::time::clock::parse_date_output(date)?;
        LegacySeen::Date(date)
    };
    let from = trim(&line[open + 1..close]);
    let (mut s, mut e) = next_word(line, close + 1)?;
    let mut sub = None;
    if line[s..e].starts_with(b"spec.") || memchr::memchr(b'{', &line[s..e]).is_some() {
        sub = Some(&line[s..e]);
        (s, e) = next_word(line, e)?;
    }
    let mut ty = None;
    if matches!(&line[s..e], b"Normal" | b"Warning") {
        ty = Some(&line[s..e]);
        (s, e) = next_word(line, e)?;
    }
    let reason = &line[s..e];
    if !reason.iter().all(|c| c.is_ascii_alphanumeric()) || !reason[0].is_ascii_alphabetic() {
        return None;
    }
    let message = trim(&line[e..]);
    Some(LegacyRow { last, count, from, sub, ty, reason, message })
}

/// The column a header cell names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Namespace,
    LastSeen,
    Type,
    Reason,
    Object,
    Source,
    Message,
    Count,
    Name,
    Kind,
    Other,
}

fn col_of(name: &[u8]) -> Col {
    match name {
        b"NAMESPACE" => Col::Namespace,
        b"LAST SEEN" | b"LASTSEEN" | b"AGE" | b"Age" => Col::LastSeen,
        b"TYPE" | b"Type" => Col::Type,
        b"REASON" | b"Reason" => Col::Reason,
        b"OBJECT" => Col::Object,
        b"SOURCE" | b"From" => Col::Source,
        b"MESSAGE" | b"Message" => Col::Message,
        b"COUNT" => Col::Count,
        b"NAME" => Col::Name,
        b"KIND" => Col::Kind,
        _ => Col::Other,
    }
}

/// Column starts of a header line; cells are separated by two or more spaces.
fn is_header(line: &[u8]) -> Option<Vec<(Col, usize)>> {
    if memchr::memmem::find(line, b"FirstSeen").is_some() {
        return None; // the pre-1.10 describe table: its rows are read by `legacy_row`
    }
    if memchr::memmem::find(line, b"REASON").is_none() && memchr::memmem::find(line, b"Reason").is_none() {
        return None;
    }
    let mut cols = Vec::new();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && line[i] == b' ' {
            i += 1;
        }
        let start = i;
        while i < line.len() && (line[i] != b' ' || matches!(line.get(i + 1), Some(c) if *c != b' ')) {
            i += 1;
        }
        if start < i {
            cols.push((col_of(&line[start..i]), start));
        }
    }
    let has = |c: Col| cols.iter().any(|(x, _)| *x == c);
    (has(Col::Reason) && has(Col::Message) && has(Col::Type) && cols.len() >= 4).then_some(cols)
}

#[derive(Default, PartialEq)]
enum Mode {
    #[default]
    Unknown,
    Json,
    Yaml,
    Text,
}

#[derive(Default)]
struct K8sParser {
    anchor: Option<i64>,
    mode: Mode,
    stream: JsonStream,
    // YAML: the block being collected, where it starts, whether it is an `items` entry.
    in_items: bool,
    block: Vec<u8>,
    block_at: Option<LinePos>,
    block_over: bool,
    // Text: the current table's columns, and the describe context.
    table: Option<Vec<(Col, usize)>>,
    table_indent: usize,
    pod: Option<String>,
    namespace: Option<String>,
    /// describe: inside `Containers:` / `Init Containers:`, and the container being read.
    in_containers: bool,
    container: Vec<(LinePos, Vec<u8>)>,
}

/// Maps one event object; `None` when the object is not an event.
fn event_record(v: &Value) -> Option<Record<'_>> {
    let obj = v.as_object()?;
    if !(obj.contains_key("involvedObject") || obj.contains_key("reason") || obj.contains_key("regarding")) {
        return None;
    }
    let time =
        ["lastTimestamp", "eventTime", "series.lastObservedTime", "firstTimestamp", "metadata.creationTimestamp"]
            .iter()
            .filter_map(|p| lookup(v, p))
            .map(time_of)
            .find(RawTime::is_some)
            .unwrap_or_default();
    let message = lookup(v, "message").or_else(|| lookup(v, "note")).and_then(scalar).unwrap_or_default();
    let mut rec = Record { time, ..Record::default() };
    rec.message = match message {
        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
    };
    let ty = lookup(v, "type").and_then(scalar);
    rec.severity = ty.as_deref().and_then(type_severity);
    rec.program = ["source.component", "reportingComponent", "reportingController", "deprecatedSource.component"]
        .iter()
        .filter_map(|p| lookup(v, p).and_then(scalar))
        .find(|s| !s.is_empty());
    rec.host = ["source.host", "deprecatedSource.host"]
        .iter()
        .filter_map(|p| lookup(v, p).and_then(scalar))
        .find(|s| !s.is_empty());
    let inv = v.get("involvedObject").or_else(|| v.get("regarding"));
    let kind = inv.and_then(|o| lookup(o, "kind")).and_then(scalar);
    let name = inv.and_then(|o| lookup(o, "name")).and_then(scalar);
    let ns = inv
        .and_then(|o| lookup(o, "namespace"))
        .and_then(scalar)
        .or_else(|| lookup(v, "metadata.namespace").and_then(scalar));
    let count = lookup(v, "count").or_else(|| lookup(v, "series.count")).and_then(scalar);
    let f = &mut rec.fields;
    if let Some(t) = ty {
        f.push((Cow::Borrowed("type"), t));
    }
    if let Some(r) = lookup(v, "reason").and_then(scalar) {
        f.push((Cow::Borrowed("reason"), r));
    }
    if let (Some(k), Some(n)) = (&kind, &name) {
        f.push((Cow::Borrowed("object"), Cow::Owned(format!("{}/{}", k.to_ascii_lowercase(), n))));
        if k == "Pod" {
            f.push((Cow::Borrowed("pod"), n.clone()));
        }
    }
    if let Some(ns) = ns.filter(|s| !s.is_empty()) {
        f.push((Cow::Borrowed("namespace"), ns));
    }
    if let Some(c) = count {
        f.push((Cow::Borrowed("count"), c));
    }
    Some(rec)
}

fn type_severity(t: &str) -> Option<Severity> {
    match t {
        "Normal" => Some(Severity::Info),
        "Warning" => Some(Severity::Warning),
        _ => Severity::from_word(t),
    }
}

fn emit_value(at: LinePos, v: &Value, first: &[u8], out: &mut dyn Sink) {
    match event_record(v) {
        Some(rec) => out.record(at, rec),
        None if v.is_object() => out.skip(at),
        None => out.unparsed(at, first),
    }
}

fn first_line(b: &[u8]) -> &[u8] {
    &b[..memchr::memchr(b'\n', b).unwrap_or(b.len())]
}

impl K8sParser {
    fn age_time(&self, age: Option<Option<i64>>) -> RawTime {
        match (self.anchor, age.flatten()) {
            // An age is rounded to its largest unit(s) and measured from a reference that is itself
            // only the capture's time: ordered like a time, shown as approximate.
            (Some(a), Some(secs)) => {
                RawTime::Approx { unix_nanos: a.saturating_sub(secs).saturating_mul(1_000_000_000) }
            }
            _ => RawTime::None,
        }
    }

    fn feed_json(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        self.stream.feed_to(at, line, out, &mut |at, json, out| match serde_json::from_slice::<Value>(json) {
            Ok(v) => emit_value(at, &v, first_line(json), out),
            Err(_) => out.unparsed(at, first_line(json)),
        });
    }

    fn flush_yaml(&mut self, out: &mut dyn Sink) {
        let Some(at) = self.block_at.take() else { return };
        if self.block_over {
            self.block_over = false;
            out.unparsed(at, b"(Kubernetes event larger than 16 MiB)");
        } else {
            match serde_saphyr::from_slice_with_options::<Value>(
                &self.block,
                serde_saphyr::options! { with_snippet: false },
            ) {
                Ok(v) => emit_value(at, &v, first_line(&self.block), out),
                Err(_) => out.unparsed(at, first_line(&self.block)),
            }
        }
        self.block.clear();
    }

    fn block_line(&mut self, at: LinePos, line: &[u8], first: bool, out: &mut dyn Sink) {
        if first {
            self.block_at = Some(at);
        } else {
            out.skip(at);
        }
        if self.block_over || self.block.len() + line.len() + 1 > MAX_ITEM_BYTES {
            self.block_over = true;
            self.block = Vec::new();
            return;
        }
        self.block.extend_from_slice(line);
        self.block.push(b'\n');
    }

    fn feed_yaml(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        if line == b"---" || line.starts_with(b"--- ") || line == b"..." {
            self.flush_yaml(out);
            self.in_items = false;
            out.skip(at);
            return;
        }
        if trim(line).is_empty() || trim(line).starts_with(b"#") {
            out.skip(at);
            return;
        }
        if line.starts_with(b"items:") {
            // The lines before `items:` were the List's own keys, not an event.
            if let Some(at0) = self.block_at.take() {
                out.skip(at0);
            }
            self.block.clear();
            self.block_over = false;
            self.in_items = true;
            out.skip(at);
            return;
        }
        if self.in_items {
            if let Some(rest) = line.strip_prefix(b"- ") {
                self.flush_yaml(out);
                self.block.extend_from_slice(b"  ");
                self.block_line(at, rest, true, out);
                // block_line pushed rest after the two spaces: keep one mapping at indent 2.
                return;
            }
            if line.starts_with(b" ") && self.block_at.is_some() {
                self.block_line(at, line, false, out);
                return;
            }
            if line.starts_with(b" ") {
                out.skip(at);
                return;
            }
            // A key at column 0 (`kind: List`, `metadata:`) ends the items.
            self.flush_yaml(out);
            self.in_items = false;
            out.skip(at);
            return;
        }
        // One event document: every line belongs to it.
        let first = self.block_at.is_none();
        self.block_line(at, line, first, out);
    }

    fn feed_text(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        let t = trim(line);
        if t.is_empty() {
            out.skip(at);
            return;
        }
        if let Some(cols) = is_header(line) {
            self.table_indent = line.len() - line.iter().skip_while(|c| **c == b' ').count();
            self.table = Some(cols);
            out.skip(at);
            return;
        }
        if t.iter().all(|c| *c == b'-' || *c == b' ' || *c == b'\t') || t.starts_with(b"FirstSeen") {
            out.skip(at);
            return;
        }
        if let Some(r) = self.table.is_none().then(|| legacy_row(line)).flatten() {
            self.legacy(at, r, out);
            return;
        }
        let indent = line.len() - line.iter().skip_while(|c| **c == b' ').count();
        if self.table.is_some() && self.table_indent > 0 && indent == 0 {
            // The describe Events section ended (another object's description starts).
            self.table = None;
        }
        if let Some(cols) = self.table.take() {
            let rec_done = self.row(at, line, &cols, out);
            self.table = Some(cols);
            if rec_done {
                return;
            }
        }
        if self.pod.is_some() && self.describe_container(at, line, indent, out) {
            return;
        }
        if indent == 0 {
            if let Some(v) = line.strip_prefix(b"Name:") {
                self.pod = Some(text(trim(v)).into_owned());
                self.namespace = None;
                out.skip(at);
                return;
            }
            if let Some(v) = line.strip_prefix(b"Namespace:") {
                self.namespace = Some(text(trim(v)).into_owned());
                out.skip(at);
                return;
            }
        }
        if self.pod.is_some() {
            // The rest of a describe output: no events in it.
            out.skip(at);
        } else {
            out.unparsed(at, line);
        }
    }

    /// A line of a `kubectl describe pod`'s `Containers:` section; true when it was taken.
    fn describe_container(&mut self, at: LinePos, line: &[u8], indent: usize, out: &mut dyn Sink) -> bool {
        let t = trim(line);
        if indent == 0 {
            self.flush_container(out);
            self.in_containers = matches!(t, b"Containers:" | b"Init Containers:" | b"Ephemeral Containers:");
            if self.in_containers {
                out.skip(at);
            }
            return self.in_containers;
        }
        if !self.in_containers {
            return false;
        }
        if indent == 2 && t.ends_with(b":") {
            self.flush_container(out);
            self.container.push((at, line.to_vec()));
            return true;
        }
        if indent >= 4 && !self.container.is_empty() {
            self.container.push((at, line.to_vec()));
            return true;
        }
        false
    }

    /// Emits a container of `kubectl describe pod`: a record at its name (id, image, ready, restart
    /// count), one at `State:` and one at `Last State:` (reason, exit code, started, finished), dated
    /// by the times they state.
    fn flush_container(&mut self, out: &mut dyn Sink) {
        let lines = std::mem::take(&mut self.container);
        let Some((name_at, name_line)) = lines.first() else { return };
        let name = text(trim(name_line).strip_suffix(b":").unwrap_or(trim(name_line))).into_owned();
        // key: value pairs, by the line they are on; sub-keys of State / Last State by their parent.
        let mut top: Vec<(&[u8], String)> = Vec::new();
        let mut sub: Vec<(usize, &[u8], String)> = Vec::new();
        let mut parent = None;
        for (i, (_, l)) in lines.iter().enumerate().skip(1) {
            let indent = l.len() - l.iter().skip_while(|c| **c == b' ').count();
            let t = trim(l);
            let Some(c) = memchr::memchr(b':', t) else { continue };
            let (k, v) = (&t[..c], text(trim(&t[c + 1..])).into_owned());
            if indent == 4 {
                parent = matches!(k, b"State" | b"Last State").then_some(i);
                top.push((k, v));
            } else if let (Some(p), true) = (parent, indent >= 6) {
                sub.push((p, k, v));
            }
        }
        let get = |k: &[u8]| top.iter().find(|(x, _)| *x == k).map(|(_, v)| v.clone());
        let mut common: Vec<(Cow<'static, str>, Cow<'static, str>)> = Vec::new();
        if let Some(p) = &self.pod {
            common.push((Cow::Borrowed("pod"), Cow::Owned(p.clone())));
        }
        if let Some(n) = &self.namespace {
            common.push((Cow::Borrowed("namespace"), Cow::Owned(n.clone())));
        }
        common.push((Cow::Borrowed("container"), Cow::Owned(name)));
        if let Some(id) = get(b"Container ID").filter(|v| !v.is_empty()) {
            let id = id.split_once("://").map_or(id.clone(), |(_, x)| x.to_string());
            common.push((Cow::Borrowed("container_id"), Cow::Owned(id)));
        }
        let anchor = self.anchor.map_or(RawTime::Snapshot, |a| RawTime::Exact {
            unix_nanos: a.saturating_mul(1_000_000_000),
            offset_secs: 0,
        });
        let mut first = Record { time: anchor, program: Some(Cow::Borrowed("kubectl describe")), ..Record::default() };
        first.message = Cow::Borrowed(trim(name_line));
        first.fields = common.clone();
        for (k, f) in [(&b"Restart Count"[..], "restarts"), (b"Ready", "ready"), (b"Image", "image")] {
            if let Some(v) = get(k) {
                first.fields.push((Cow::Borrowed(f), Cow::Owned(v)));
            }
        }
        out.record(*name_at, first);
        for (i, (at, l)) in lines.iter().enumerate().skip(1) {
            let t = trim(l);
            let which = if t.starts_with(b"State:") {
                "state"
            } else if t.starts_with(b"Last State:") {
                "last_state"
            } else {
                out.attach(*at, l);
                continue;
            };
            let value = text(trim(&t[memchr::memchr(b':', t).map_or(0, |c| c + 1)..])).into_owned();
            if value.is_empty() {
                out.attach(*at, l);
                continue;
            }
            let subs: Vec<(&[u8], &String)> = sub.iter().filter(|(p, _, _)| *p == i).map(|(_, k, v)| (*k, v)).collect();
            let sub_of = |k: &[u8]| subs.iter().find(|(x, _)| *x == k).map(|(_, v)| (*v).clone());
            // Dated by when it ended, else when it started.
            let time = sub_of(b"Finished")
                .or_else(|| sub_of(b"Started"))
                .and_then(|v| crate::time::clock::parse_date_output(v.as_bytes()))
                .unwrap_or(anchor);
            let mut r = Record { time, program: Some(Cow::Borrowed("kubectl describe")), ..Record::default() };
            r.message = Cow::Borrowed(t);
            r.fields = common.clone();
            r.fields.push((Cow::Borrowed(which), Cow::Owned(value)));
            for (k, f) in [
                (&b"Reason"[..], "reason"),
                (b"Exit Code", "exit_code"),
                (b"Started", "started"),
                (b"Finished", "finished"),
                (b"Signal", "signal"),
            ] {
                if let Some(v) = sub_of(k) {
                    r.fields.push((Cow::Borrowed(f), Cow::Owned(v)));
                }
            }
            out.record(*at, r);
        }
    }

    /// Emits a row of the pre-1.10 describe table.
    fn legacy(&self, at: LinePos, r: LegacyRow<'_>, out: &mut dyn Sink) {
        let time = match r.last {
            LegacySeen::Age(a) => self.age_time(a),
            LegacySeen::Date(d) => crate::time::clock::parse_date_output(d).unwrap_or(RawTime::None),
        };
        let mut rec = Record::new(time, r.message);
        rec.severity = r.ty.and_then(|t| type_severity(&text(t)));
        rec.program = r.from.split(|c| *c == b' ').next().filter(|p| !p.is_empty()).map(text);
        let f = &mut rec.fields;
        if let Some(t) = r.ty {
            f.push((Cow::Borrowed("type"), text(t)));
        }
        f.push((Cow::Borrowed("reason"), text(r.reason)));
        f.push((Cow::Borrowed("count"), text(r.count)));
        if let Some(p) = &self.pod {
            f.push((Cow::Borrowed("object"), Cow::Owned(format!("pod/{p}"))));
            f.push((Cow::Borrowed("pod"), Cow::Owned(p.clone())));
        }
        if let Some(n) = &self.namespace {
            f.push((Cow::Borrowed("namespace"), Cow::Owned(n.clone())));
        }
        // `spec.containers{nginx}`: the container the event is about.
        if let Some(c) = r.sub.and_then(|s| {
            let o = memchr::memchr(b'{', s)?;
            let c = memchr::memchr(b'}', &s[o..])?;
            Some(&s[o + 1..o + c])
        }) {
            f.push((Cow::Borrowed("container"), text(c)));
        }
        out.record(at, rec);
    }

    /// Reads one table row; false when the line is not one.
    fn row(&self, at: LinePos, line: &[u8], cols: &[(Col, usize)], out: &mut dyn Sink) -> bool {
        let cell = |i: usize| -> &[u8] {
            let start = cols[i].1.min(line.len());
            let end = cols.get(i + 1).map_or(line.len(), |c| c.1).clamp(start, line.len());
            // A value may run past its column start by a few bytes when kubectl misaligns; cut at spaces.
            trim(&line[start..end])
        };
        let get = |c: Col| cols.iter().position(|(x, _)| *x == c).map(cell);
        let ty = get(Col::Type).unwrap_or(b"");
        if ty != b"Normal" && ty != b"Warning" {
            return false;
        }
        let age_cell = get(Col::LastSeen).unwrap_or(b"");
        let (age_word, rest) = match memchr::memchr(b' ', age_cell) {
            Some(sp) => (&age_cell[..sp], trim(&age_cell[sp..])),
            None => (age_cell, &b""[..]),
        };
        let mut rec = Record::new(self.age_time(parse_age(age_word)), get(Col::Message).unwrap_or(b""));
        rec.severity = type_severity(&text(ty));
        rec.program = get(Col::Source).filter(|s| !s.is_empty()).map(|s| {
            // wide tables write `kubelet, node-1`.
            let s = s.split(|c| *c == b',').next().unwrap_or(s);
            text(trim(s))
        });
        let f = &mut rec.fields;
        f.push((Cow::Borrowed("type"), text(ty)));
        if let Some(r) = get(Col::Reason) {
            f.push((Cow::Borrowed("reason"), text(r)));
        }
        let object: Option<Cow<'_, str>> = match (get(Col::Object), get(Col::Kind), get(Col::Name)) {
            (Some(o), _, _) if !o.is_empty() => Some(text(o)),
            (None, Some(k), Some(n)) if !k.is_empty() => Some(Cow::Owned(format!(
                "{}/{}",
                text(k).to_ascii_lowercase(),
                text(n.split(|c| *c == b'.').next().unwrap_or(n))
            ))),
            _ => self.pod.as_deref().map(|p| Cow::Owned(format!("pod/{p}"))),
        };
        if let Some(o) = object {
            if let Some(p) = o.strip_prefix("pod/") {
                let p = p.to_string();
                f.push((Cow::Borrowed("object"), o));
                f.push((Cow::Borrowed("pod"), Cow::Owned(p)));
            } else {
                f.push((Cow::Borrowed("object"), o));
            }
        }
        let ns = get(Col::Namespace).map(text).or_else(|| self.namespace.as_deref().map(Cow::Borrowed));
        if let Some(ns) = ns.filter(|s| !s.is_empty()) {
            f.push((Cow::Borrowed("namespace"), ns));
        }
        // `5m (x12 over 40m)` in describe; a COUNT column in wide/old tables.
        let count = rest
            .strip_prefix(b"(x")
            .and_then(|r| r.split(|c| *c == b' ').next())
            .and_then(parse_u64)
            .map(|n| Cow::Owned(n.to_string()))
            .or_else(|| get(Col::Count).filter(|c| parse_u64(c).is_some()).map(text));
        if let Some(c) = count {
            f.push((Cow::Borrowed("count"), c));
        }
        out.record(at, rec);
        true
    }
}

impl Parser for K8sParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        if self.mode == Mode::Unknown {
            let t = trim(line);
            self.mode = match t.first() {
                None => {
                    out.skip(at);
                    return;
                }
                Some(b'{') | Some(b'[') => Mode::Json,
                _ if t.starts_with(b"apiVersion:")
                    || t.starts_with(b"items:")
                    || t.starts_with(b"- apiVersion:")
                    || t.starts_with(b"kind:")
                    || t == b"---" =>
                {
                    Mode::Yaml
                }
                _ => Mode::Text,
            };
        }
        match self.mode {
            Mode::Json => self.feed_json(at, line, out),
            Mode::Yaml => self.feed_yaml(at, line, out),
            _ => self.feed_text(at, line, out),
        }
    }

    fn finish(&mut self, out: &mut dyn Sink) {
        self.flush_container(out);
        match self.mode {
            Mode::Json => self.stream.finish_to(out),
            Mode::Yaml => self.flush_yaml(out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testing::{records, run, Got};

    const NOW: i64 = 1_760_355_000; // 2025-10-13T11:30:00Z = 20:30 KST

    fn p() -> Box<dyn Parser> {
        parser(&SourceCtx { now: Some(NOW), ..SourceCtx::default() })
    }

    fn field<'a>(g: &'a Got, k: &str) -> Option<&'a str> {
        let Got::Rec { fields, .. } = g else { return None };
        fields.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn json_list_items_get_their_start_lines() {
        let text = r#"{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "count": 12,
            "firstTimestamp": "2025-10-13T10:40:11Z",
            "involvedObject": {"kind": "Pod", "name": "libvirt-libvirt-default-x7k2p", "namespace": "openstack"},
            "kind": "Event",
            "lastTimestamp": "2025-10-13T10:51:02Z",
            "message": "Liveness probe failed: virsh list timed out {\"braces\": [1]}",
            "metadata": {"name": "x.17", "namespace": "openstack"},
            "reason": "Unhealthy",
            "source": {"component": "kubelet", "host": "s-dcn37-com604-krw1a"},
            "type": "Warning"
        },
        {"apiVersion": "v1", "eventTime": "2025-10-13T10:52:00.123456Z", "reason": "Killing", "type": "Normal",
         "involvedObject": {"kind": "Pod", "name": "libvirt-libvirt-default-x7k2p"}, "message": "Stopping container libvirt",
         "reportingComponent": "kubelet"}
    ],
    "kind": "List",
    "metadata": {"resourceVersion": ""}
}"#;
        let got = run(p(), text);
        let recs: Vec<&Got> = got.iter().filter(|g| matches!(g, Got::Rec { .. })).collect();
        assert_eq!(recs.len(), 2, "{got:?}");
        let Got::Rec { line, time, severity, program, host, message, .. } = recs[0] else { panic!() };
        assert_eq!(*line, 4);
        assert_eq!(*time, RawTime::Exact { unix_nanos: 1_760_352_662_000_000_000, offset_secs: 0 });
        assert_eq!(*severity, Some(Severity::Warning));
        assert_eq!(program.as_deref(), Some("kubelet"));
        assert_eq!(host.as_deref(), Some("s-dcn37-com604-krw1a"));
        assert!(message.starts_with("Liveness probe failed"));
        assert_eq!(field(recs[0], "object"), Some("pod/libvirt-libvirt-default-x7k2p"));
        assert_eq!(field(recs[0], "pod"), Some("libvirt-libvirt-default-x7k2p"));
        assert_eq!(field(recs[0], "namespace"), Some("openstack"));
        assert_eq!(field(recs[0], "count"), Some("12"));
        assert!(matches!(recs[1], Got::Rec { line: 17, severity: Some(Severity::Info), .. }));
        assert!(!got.iter().any(|g| matches!(g, Got::Unparsed(..))));
        assert_eq!(got.len(), text.lines().count());
    }

    #[test]
    fn yaml_items() {
        let text = "apiVersion: v1\nitems:\n- apiVersion: v1\n  count: 3\n  involvedObject:\n    kind: Pod\n    name: libvirt-libvirt-default-x7k2p\n    namespace: openstack\n  lastTimestamp: \"2025-10-13T10:51:02Z\"\n  message: 'Readiness probe failed: timeout'\n  reason: Unhealthy\n  source:\n    component: kubelet\n  type: Warning\n- apiVersion: v1\n  involvedObject:\n    kind: Node\n    name: s-dcn37-com604-krw1a\n  firstTimestamp: 2025-10-13T10:41:00Z\n  message: Node status is now NodeNotReady\n  reason: NodeNotReady\n  type: Normal\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
        let got = run(p(), text);
        let recs: Vec<&Got> = got.iter().filter(|g| matches!(g, Got::Rec { .. })).collect();
        assert_eq!(recs.len(), 2, "{got:?}");
        assert!(matches!(recs[0], Got::Rec { line: 3, time: RawTime::Exact { .. }, .. }));
        assert_eq!(field(recs[0], "count"), Some("3"));
        assert_eq!(field(recs[1], "object"), Some("node/s-dcn37-com604-krw1a"));
        assert!(matches!(recs[1], Got::Rec { line: 15, time: RawTime::Exact { .. }, .. }));
        assert!(!got.iter().any(|g| matches!(g, Got::Unparsed(..))));
    }

    #[test]
    fn tables_with_and_without_namespace() {
        let got = run(
            p(),
            "LAST SEEN   TYPE      REASON      OBJECT                              MESSAGE\n\
             5m          Warning   Unhealthy   pod/libvirt-libvirt-default-x7k2p   Liveness probe failed: command timed out\n\
             2d3h        Normal    Pulled      pod/libvirt-libvirt-default-x7k2p   Container image already present\n\
             <unknown>   Normal    Started     pod/libvirt-libvirt-default-x7k2p   Started container\n",
        );
        let r = records(&got);
        assert_eq!(r[0].0, RawTime::Approx { unix_nanos: (NOW - 300) * 1_000_000_000 });
        assert_eq!(r[0].2, "Liveness probe failed: command timed out");
        assert_eq!(r[1].0, RawTime::Approx { unix_nanos: (NOW - 2 * 86_400 - 3 * 3600) * 1_000_000_000 });
        assert_eq!(r[2].0, RawTime::None);
        assert_eq!(field(&got[1], "pod"), Some("libvirt-libvirt-default-x7k2p"));
        let got = run(
            p(),
            "NAMESPACE   LAST SEEN   TYPE      REASON    OBJECT                              MESSAGE\n\
             openstack   45s         Warning   BackOff   pod/libvirt-libvirt-default-x7k2p   Back-off restarting failed container\n",
        );
        assert_eq!(field(&got[1], "namespace"), Some("openstack"));
        assert_eq!(records(&got)[0].0, RawTime::Approx { unix_nanos: (NOW - 45) * 1_000_000_000 });
        // Without an anchor the time is unknown.
        let got = run(
            parser(&SourceCtx::default()),
            "LAST SEEN   TYPE     REASON   OBJECT   MESSAGE\n5m          Normal   X        pod/a    m\n",
        );
        assert_eq!(records(&got)[0].0, RawTime::None);
    }

    #[test]
    fn describe_container_states() {
        // kubectl describe pod: a container restarted after a kill (exit 137), now waiting in back-off.
        let text = r#"Name:             libvirt-libvirt-default-4x9kq
Namespace:        openstack
Init Containers:
  init:
    Container ID:   containerd://0a1b2c3d4e5f
    State:          Terminated
      Reason:       Completed
      Exit Code:    0
      Started:      Mon, 10 Mar 2025 08:00:01 +0900
      Finished:     Mon, 10 Mar 2025 08:00:03 +0900
    Ready:          True
    Restart Count:  0
Containers:
  libvirt:
    Container ID:   containerd://753ac7cfab3c9d1e2f3a4b5c6d7e8f90
    Image:          docker.io/openstackhelm/libvirt:2024.1-ubuntu_jammy
    Command:
      /tmp/libvirt.sh
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    137
      Started:      Tue, 11 Mar 2025 08:52:10 +0900
      Finished:     Tue, 11 Mar 2025 08:58:40 +0900
    Ready:          False
    Restart Count:  7
    Liveness:       exec [/tmp/libvirt-liveness.sh] delay=30s timeout=10s period=10s #success=1 #failure=3
Conditions:
  Type              Status
  Ready             False
"#;
        let got = run(p(), text);
        assert!(!got.iter().any(|g| matches!(g, Got::Unparsed(..))), "{got:?}");
        let at = |l: u64| {
            got.iter()
                .find(|g| matches!(g, Got::Rec { line, .. } if *line == l))
                .unwrap_or_else(|| panic!("{l}: {got:?}"))
        };
        let c = at(14);
        assert_eq!(
            (field(c, "container"), field(c, "restarts"), field(c, "ready")),
            (Some("libvirt"), Some("7"), Some("False"))
        );
        assert_eq!(field(c, "container_id"), Some("753ac7cfab3c9d1e2f3a4b5c6d7e8f90"));
        assert_eq!(field(c, "pod"), Some("libvirt-libvirt-default-4x9kq"));
        assert_eq!((field(at(19), "state"), field(at(19), "reason")), (Some("Waiting"), Some("CrashLoopBackOff")));
        let last = at(21);
        assert_eq!(
            (field(last, "last_state"), field(last, "exit_code"), field(last, "reason")),
            (Some("Terminated"), Some("137"), Some("Error"))
        );
        // 2025-03-11 08:58:40 +0900
        let Got::Rec { time, .. } = last else { panic!() };
        assert_eq!(*time, RawTime::Exact { unix_nanos: 1_741_651_120 * 1_000_000_000, offset_secs: 9 * 3600 });
        assert_eq!(field(at(6), "exit_code"), Some("0"));
        assert!(got.iter().any(|g| *g == Got::Attach(28, "    Liveness:       exec [/tmp/libvirt-liveness.sh] delay=30s timeout=10s period=10s #success=1 #failure=3".into())));
    }

    #[test]
    fn describe_events_section() {
        let text = "Name:             libvirt-libvirt-default-x7k2p\n\
Namespace:        openstack\n\
Node:             s-dcn37-com604-krw1a/10.0.0.37\n\
Containers:\n\
  libvirt:\n\
    State:          Running\n\
Events:\n\
  Type     Reason     Age                 From     Message\n\
  ----     ------     ----                ----     -------\n\
  Warning  Unhealthy  5m (x12 over 40m)   kubelet  Liveness probe failed: timeout\n\
  Normal   Pulled     2m                  kubelet  Container image \"libvirt:2024.1\" already present on machine\n";
        let got = run(p(), text);
        let recs: Vec<&Got> =
            got.iter().filter(|g| matches!(g, Got::Rec { program: Some(p), .. } if p != "kubectl describe")).collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(field(recs[0], "count"), Some("12"));
        assert_eq!(field(recs[0], "pod"), Some("libvirt-libvirt-default-x7k2p"));
        assert_eq!(field(recs[0], "namespace"), Some("openstack"));
        let Got::Rec { program, time, .. } = recs[0] else { panic!() };
        assert_eq!(program.as_deref(), Some("kubelet"));
        assert_eq!(*time, RawTime::Approx { unix_nanos: (NOW - 300) * 1_000_000_000 });
        assert!(!got.iter().any(|g| matches!(g, Got::Unparsed(..))));
    }

    #[test]
    fn describe_events_before_1_10() {
        // 2015: tab-separated, dates, no Type column, lowercase reasons.
        let text = "  FirstSeen\tLastSeen\tCount\tFrom\tSubobjectPath\tReason\tMessage\n\
  Tue, 07 Apr 2015 12:08:30 -0700\tTue, 07 Apr 2015 12:08:30 -0700\t1\t{kubelet 127.0.0.1}\tspec.containers{nginx}\t\t\tkilling\t\tKilling 0b7743acd1a5\n\
  Tue, 07 Apr 2015 12:08:20 -0700\tTue, 07 Apr 2015 12:08:20 -0700\t1\t{scheduler }\t\t\t\tscheduled\t\tSuccessfully assigned nginx to 127.0.0.1\n\
  16m   42s 11  {kubelet default-pool-22328c35-ijcs}    spec.containers{rethinkdb}  Warning Unhealthy   Liveness probe failed: connection refused\n";
        let got = run(p(), text);
        let recs: Vec<&Got> = got.iter().filter(|g| matches!(g, Got::Rec { .. })).collect();
        assert_eq!(recs.len(), 3, "{got:?}");
        let Got::Rec { program, time, message, severity, .. } = recs[0] else { panic!() };
        assert_eq!(program.as_deref(), Some("kubelet"));
        assert_eq!(message, "Killing 0b7743acd1a5");
        assert_eq!(*severity, None);
        // 12:08:30 -0700 = 19:08:30Z
        assert_eq!(*time, RawTime::Exact { unix_nanos: 1_428_433_710 * 1_000_000_000, offset_secs: -7 * 3600 });
        assert_eq!(field(recs[0], "reason"), Some("killing"));
        assert_eq!(field(recs[0], "container"), Some("nginx"));
        assert_eq!(field(recs[0], "count"), Some("1"));
        assert_eq!(field(recs[1], "container"), None);
        assert_eq!(field(recs[1], "reason"), Some("scheduled"));
        let Got::Rec { time, severity, .. } = recs[2] else { panic!() };
        assert_eq!(*severity, Some(Severity::Warning));
        assert_eq!(*time, RawTime::Approx { unix_nanos: (NOW - 42) * 1_000_000_000 });
        assert_eq!(field(recs[2], "count"), Some("11"));
        assert_eq!(field(recs[2], "container"), Some("rethinkdb"));
        assert!(detect(
            b"  1m    1m  1   {kubelet node-1}    spec.containers{db}  Normal  Started     Started container"
        ));
        // Near misses: no braces, no count, a word for an age.
        assert!(legacy_row(b"  16m   42s   {kubelet x}  Warning Unhealthy  msg").is_none());
        assert!(legacy_row(b"  Warning  Unhealthy  5m  kubelet  value {x}").is_none());
        assert!(legacy_row(b"  soon later 3 {kubelet x} Warning Unhealthy msg").is_none());
    }

    #[test]
    fn near_misses_and_garbage() {
        assert!(detect(b"5m          Warning   Unhealthy   pod/x   msg"));
        assert!(!detect(b"Warning: something went wrong"));
        assert!(!detect(b"Oct 13 19:51:02 host kubelet[1]: Warning Unhealthy"));
        assert!(!detect(b"name: foo"));
        assert_eq!(parse_age(b"3m20s"), Some(Some(200)));
        assert_eq!(parse_age(b"5x"), None);
        assert_eq!(parse_age(b"m5"), None);
        let got = run(p(), "this is not an event\n\n");
        assert_eq!(got[0], Got::Unparsed(1, "this is not an event".into()));
        let got = run(p(), "{\"broken\": \n}\n");
        assert!(got.iter().any(|g| matches!(g, Got::Unparsed(1, _))));
        let got = run(p(), "apiVersion: v1\nitems:\n- a: [\n");
        assert!(got.iter().any(|g| matches!(g, Got::Unparsed(3, _))));
    }
}
