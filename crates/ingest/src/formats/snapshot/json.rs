//! JSON documents commands print: `lsblk -J`, `crictl inspect` / `inspectp`, `docker inspect`.
//!
//! A document is gathered line by line until its braces close (strings and escapes followed), at
//! most [`MAX_DOC`] bytes, then read with serde_json. Records are anchored at the line that names
//! the object (lsblk: each device's `"name":` line, in document order; crictl and docker: the
//! container's `"id"`/`"Id"` line), the lines before are format lines and the lines after belong to
//! the record.
//!
//! See: util-linux lsblk(8) `--json` (nested `children`), cri-tools `crictl inspect` (the CRI
//! `ContainerStatus` as JSON: `status.id`, `status.metadata.{name,attempt}`, `status.state`,
//! `status.exitCode`, `status.reason`, `status.startedAt`, `status.finishedAt`, `status.labels`,
//! `info.pid`, `info.sandboxID`), `crictl inspectp` (`status.metadata.{name,namespace}`,
//! `status.state`), docker `inspect` (`Id`, `Name`, `State.{Status,ExitCode,Pid,StartedAt,
//! FinishedAt,OOMKilled}`, `RestartCount`, `Config.Labels`).

use serde_json::Value;

use super::block::{lsblk_key, lsblk_name_field};
use super::LinePos;
use super::{trim, Sink};
use std::borrow::Cow;

/// The most a document may hold before it is given up on.
pub(crate) const MAX_DOC: usize = 16 << 20;

/// Which command printed the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonKind {
    Lsblk,
    Inspect,
}

/// A document being gathered.
#[derive(Default)]
pub(crate) struct Doc {
    pub lines: Vec<(LinePos, Vec<u8>)>,
    bytes: usize,
    depth: i64,
    in_str: bool,
    esc: bool,
    started: bool,
}

/// How a line changed a document.
pub(crate) enum Fed {
    /// The document needs more lines.
    More,
    /// The document closed with this line.
    Done,
    /// Not JSON, or too big: give the lines back.
    Bad,
}

impl Doc {
    /// Adds a line.
    pub fn feed(&mut self, at: LinePos, line: &[u8]) -> Fed {
        if !self.started {
            let t = super::trim(line);
            if !(t.starts_with(b"{") || t.starts_with(b"[")) {
                self.lines.push((at, line.to_vec()));
                return Fed::Bad;
            }
            self.started = true;
        }
        self.bytes += line.len() + 1;
        self.lines.push((at, line.to_vec()));
        if self.bytes > MAX_DOC {
            return Fed::Bad;
        }
        for &c in line {
            if self.in_str {
                if self.esc {
                    self.esc = false;
                } else if c == b'\\' {
                    self.esc = true;
                } else if c == b'"' {
                    self.in_str = false;
                }
                continue;
            }
            match c {
                b'"' => self.in_str = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => self.depth -= 1,
                _ => {}
            }
        }
        if self.depth <= 0 {
            Fed::Done
        } else {
            Fed::More
        }
    }

    /// The parsed document.
    pub fn value(&self) -> Option<Value> {
        let mut all = Vec::with_capacity(self.bytes);
        for (_, l) in &self.lines {
            all.extend_from_slice(l);
            all.push(b'\n');
        }
        serde_json::from_slice(&all).ok()
    }
}

/// A record to make from a document: the index of its line and its fields.
pub(crate) type Anchor = (usize, Vec<(&'static str, String)>);

fn s(v: &Value) -> Option<String> {
    match v {
        Value::String(x) if !x.is_empty() => Some(x.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn lsblk(doc: &Doc, v: &Value) -> Vec<Anchor> {
    let mut devs: Vec<Vec<(&'static str, String)>> = Vec::new();
    fn walk(d: &Value, parent: Option<&str>, out: &mut Vec<Vec<(&'static str, String)>>) {
        let Some(obj) = d.as_object() else { return };
        let name = obj.get("name").and_then(s).unwrap_or_default();
        let ty = obj.get("type").and_then(s);
        let mut f = vec![(lsblk_name_field(&name, ty.as_deref()), name.clone())];
        for (k, val) in obj {
            let Some(key) = lsblk_key(k) else { continue };
            let val = match val {
                Value::Array(a) => a.iter().find_map(s),
                v => s(v),
            };
            if let Some(val) = val {
                f.push((key, val));
            }
        }
        if let Some(p) = parent {
            if !f.iter().any(|(k, _)| *k == "parent") {
                f.push(("parent", p.to_string()));
            }
        }
        out.push(f);
        if let Some(kids) = obj.get("children").and_then(Value::as_array) {
            for k in kids {
                walk(k, Some(&name), out);
            }
        }
    }
    for d in v.get("blockdevices").and_then(Value::as_array).into_iter().flatten() {
        walk(d, None, &mut devs);
    }
    let name_lines: Vec<usize> = doc
        .lines
        .iter()
        .enumerate()
        .filter(|(_, (_, l))| memchr::memmem::find(l, b"\"name\":").is_some())
        .map(|(i, _)| i)
        .collect();
    if name_lines.len() != devs.len() {
        return vec![(0, Vec::new())];
    }
    name_lines.into_iter().zip(devs).collect()
}

fn put(f: &mut Vec<(&'static str, String)>, k: &'static str, v: Option<String>) {
    if let Some(v) = v {
        f.push((k, v));
    }
}

fn inspect(doc: &Doc, v: &Value) -> Vec<Anchor> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    let mut out = Vec::new();
    let mut from = 0;
    for it in items {
        let mut f: Vec<(&'static str, String)> = Vec::new();
        let labels;
        if let Some(st) = it.get("status") {
            // crictl inspect (container) or inspectp (pod sandbox).
            let md = st.get("metadata");
            let sandbox = md.and_then(|m| m.get("namespace")).is_some();
            labels = st.get("labels").cloned();
            if sandbox {
                put(&mut f, "pod_id", st.get("id").and_then(s));
                put(&mut f, "pod", md.and_then(|m| m.get("name")).and_then(s));
                put(&mut f, "namespace", md.and_then(|m| m.get("namespace")).and_then(s));
            } else {
                put(&mut f, "container_id", st.get("id").and_then(s));
                put(&mut f, "container", md.and_then(|m| m.get("name")).and_then(s));
                put(&mut f, "restarts", md.and_then(|m| m.get("attempt")).and_then(s));
                put(&mut f, "exit_code", st.get("exitCode").and_then(s));
                put(&mut f, "reason", st.get("reason").and_then(s));
                put(&mut f, "started", st.get("startedAt").and_then(s));
                put(&mut f, "finished", st.get("finishedAt").and_then(s));
            }
            put(&mut f, "state", st.get("state").and_then(s));
            let info = it.get("info");
            put(&mut f, "pid", info.and_then(|i| i.get("pid")).and_then(s).filter(|p| p != "0"));
            put(&mut f, "pod_id", info.and_then(|i| i.get("sandboxID")).and_then(s));
        } else if it.get("Id").is_some() {
            // docker / podman inspect.
            let st = it.get("State");
            labels = it.get("Config").and_then(|c| c.get("Labels")).cloned();
            put(&mut f, "container_id", it.get("Id").and_then(s));
            put(&mut f, "container", it.get("Name").and_then(s).map(|n| n.trim_start_matches('/').to_string()));
            put(&mut f, "state", st.and_then(|x| x.get("Status")).and_then(s));
            put(&mut f, "exit_code", st.and_then(|x| x.get("ExitCode")).and_then(s));
            put(&mut f, "pid", st.and_then(|x| x.get("Pid")).and_then(s).filter(|p| p != "0"));
            put(&mut f, "started", st.and_then(|x| x.get("StartedAt")).and_then(s));
            put(&mut f, "finished", st.and_then(|x| x.get("FinishedAt")).and_then(s));
            put(&mut f, "oom_killed", st.and_then(|x| x.get("OOMKilled")).and_then(s));
            put(&mut f, "restarts", it.get("RestartCount").and_then(s));
        } else {
            continue;
        }
        if let Some(l) = labels {
            let label = |k: &str| l.get(k).and_then(s);
            if !f.iter().any(|(k, _)| *k == "pod") {
                put(&mut f, "pod", label("io.kubernetes.pod.name"));
            }
            if !f.iter().any(|(k, _)| *k == "namespace") {
                put(&mut f, "namespace", label("io.kubernetes.pod.namespace"));
            }
            if !f.iter().any(|(k, _)| *k == "container") {
                put(&mut f, "container", label("io.kubernetes.container.name"));
            }
        }
        // Anchor: the next line naming an id, else the first line of what is left.
        let at = doc.lines[from..]
            .iter()
            .position(|(_, l)| {
                let t = super::trim(l);
                t.starts_with(b"\"id\":") || t.starts_with(b"\"Id\":")
            })
            .map_or(from, |i| from + i);
        from = at + 1;
        out.push((at.min(doc.lines.len().saturating_sub(1)), f));
    }
    if out.is_empty() {
        out.push((0, Vec::new()));
    }
    out
}

/// The records a finished document makes, in line order; `None` when it is not valid JSON.
pub(crate) fn anchors(kind: JsonKind, doc: &Doc) -> Option<Vec<Anchor>> {
    let v = doc.value()?;
    let mut a = match kind {
        JsonKind::Lsblk => lsblk(doc, &v),
        JsonKind::Inspect => inspect(doc, &v),
    };
    a.sort_by_key(|x| x.0);
    a.dedup_by_key(|x| x.0);
    Some(a)
}

impl super::SnapshotParser {
    /// A JSON document's line; true when it was taken.
    pub(super) fn json_line(&mut self, kind: JsonKind, at: LinePos, line: &[u8], out: &mut dyn Sink) -> bool {
        let doc = self.json.get_or_insert_with(Doc::default);
        match doc.feed(at, line) {
            Fed::More => true,
            Fed::Done => {
                let doc = self.json.take().expect("doc");
                match anchors(kind, &doc) {
                    Some(anchors) => self.emit_doc(&doc, anchors, out),
                    None => self.give_back(doc, out),
                }
                true
            }
            Fed::Bad => {
                let doc = self.json.take().expect("doc");
                self.give_back(doc, out);
                true
            }
        }
    }

    pub(super) fn emit_doc(&mut self, doc: &Doc, anchors: Vec<Anchor>, out: &mut dyn Sink) {
        let mut next = anchors.into_iter().peekable();
        let mut emitted = false;
        for (i, (at, l)) in doc.lines.iter().enumerate() {
            if next.peek().is_some_and(|a| a.0 == i) {
                let (_, f) = next.next().expect("peeked");
                let fields = f.into_iter().map(|(k, v)| (k, Cow::Owned(v))).collect();
                self.emit(*at, trim(l), None, fields, out);
                emitted = true;
            } else if emitted {
                out.attach(*at, l);
            } else {
                out.skip(*at);
            }
        }
        self.open = emitted;
    }

    pub(super) fn give_back(&mut self, doc: Doc, out: &mut dyn Sink) {
        for (at, l) in doc.lines {
            self.fallback(at, &l, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Doc {
        let mut d = Doc::default();
        for (i, l) in text.lines().enumerate() {
            let r = d.feed(LinePos { line: i as u64 + 1, offset: 0 }, l.as_bytes());
            assert!(!matches!(r, Fed::Bad));
        }
        d
    }

    #[test]
    fn lsblk_json_old_and_new() {
        // util-linux 2.38 (one key a line) and 2.3x (one device a line).
        let new = "{\n   \"blockdevices\": [\n      {\n         \"name\": \"sdc\",\n         \"maj:min\": \"8:32\",\n         \"type\": \"disk\",\n         \"mountpoints\": [\n             null\n         ],\n         \"children\": [\n            {\n               \"name\": \"mpatha\",\n               \"maj:min\": \"253:2\",\n               \"type\": \"mpath\",\n               \"mountpoints\": [\n                   \"/var/lib/nova/instances\"\n               ]\n            }\n         ]\n      }\n   ]\n}";
        let a = anchors(JsonKind::Lsblk, &doc(new)).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].0, 3);
        assert!(a[1].1.contains(&("map", "mpatha".into())));
        assert!(a[1].1.contains(&("parent", "sdc".into())));
        assert!(a[1].1.contains(&("mount", "/var/lib/nova/instances".into())));
        let old = "{\n   \"blockdevices\": [\n      {\"name\": \"sdc\", \"maj:min\": \"8:32\", \"type\": \"disk\", \"mountpoint\": null,\n         \"children\": [\n            {\"name\": \"mpatha\", \"maj:min\": \"253:2\", \"type\": \"mpath\", \"mountpoint\": null}\n         ]\n      }\n   ]\n}";
        let a = anchors(JsonKind::Lsblk, &doc(old)).unwrap();
        assert_eq!(a.iter().map(|x| x.0).collect::<Vec<_>>(), vec![2, 4]);
    }

    #[test]
    fn crictl_inspect() {
        let text = r#"{
  "status": {
    "id": "753ac7cfab3c9d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
    "metadata": {
      "attempt": 7,
      "name": "libvirt"
    },
    "state": "CONTAINER_EXITED",
    "exitCode": 137,
    "reason": "Error",
    "labels": {
      "io.kubernetes.pod.name": "libvirt-libvirt-default-x7k2p",
      "io.kubernetes.pod.namespace": "openstack"
    }
  },
  "info": {
    "sandboxID": "9f8e7d6c5b4a3",
    "pid": 0
  }
}"#;
        let a = anchors(JsonKind::Inspect, &doc(text)).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].0, 2);
        let f = &a[0].1;
        for (k, v) in [
            ("container", "libvirt"),
            ("exit_code", "137"),
            ("restarts", "7"),
            ("pod", "libvirt-libvirt-default-x7k2p"),
            ("namespace", "openstack"),
            ("state", "CONTAINER_EXITED"),
            ("pod_id", "9f8e7d6c5b4a3"),
        ] {
            assert!(f.contains(&(k, v.into())), "{k}: {f:?}");
        }
        assert!(!f.iter().any(|(k, _)| *k == "pid"));
        let mut d = Doc::default();
        assert!(matches!(d.feed(LinePos::default(), b"not json"), Fed::Bad));
    }
}
