//! The fallback format: any text. A line that carries an ISO 8601 / RFC 3339 stamp near its start
//! (`2025-10-13T19:51:02Z ...`, `[2025-10-13 19:51:02,123] ...`) is timed; every other line is an
//! event without a time that keeps its place after the nearest earlier line. Nothing is unparsed.
//!
//! Also the `plain` format (`--input-format plain`): every line is a bare message, no header at all.
//!
//! A container's log in a must-gather or `oc adm inspect` tree
//! (`namespaces/<ns>/pods/<pod>/<container>/<container>/logs/{current,previous}.log`, written with
//! `kubectl logs --timestamps`: `2025-03-11T00:14:07.123456789Z msg`) gets `namespace`, `pod` and
//! `container` from its path. See: openshift/oc `pkg/cli/admin/inspect/pod.go`.

use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::parse_iso;
use crate::time::RawTime;

/// True when a stamp is found near the start of `line`.
pub fn detect(line: &[u8]) -> bool {
    find_stamp(line).is_some()
}

/// A generic parser.
pub fn parser(ctx: &SourceCtx) -> Box<dyn Parser> {
    Box::new(Generic { plain: false, fields: pod_log_fields(&ctx.path) })
}

/// `namespace`, `pod`, `container` of a must-gather pod log path.
fn pod_log_fields(path: &str) -> Vec<(&'static str, String)> {
    let parts: Vec<&str> = path.rsplit(['/', '!']).collect();
    // Reversed: file, `logs`, container, container, pod, `pods`, namespace.
    match parts.as_slice() {
        [file, "logs", c1, c2, pod, "pods", ns, ..]
            if c1 == c2 && file.ends_with(".log") && (file.starts_with("current") || file.starts_with("previous")) =>
        {
            vec![("namespace", ns.to_string()), ("pod", pod.to_string()), ("container", c1.to_string())]
        }
        _ => Vec::new(),
    }
}

/// A plain parser: every line is a message with no header.
pub fn plain_parser(_: &SourceCtx) -> Box<dyn Parser> {
    Box::new(Generic { plain: true, fields: Vec::new() })
}

struct Generic {
    plain: bool,
    /// Fields every record gets (from the path).
    fields: Vec<(&'static str, String)>,
}

impl Generic {
    fn record<'a>(&'a self, t: RawTime, msg: &'a [u8]) -> Record<'a> {
        let mut r = Record::new(t, msg);
        r.fields = self
            .fields
            .iter()
            .map(|(k, v)| (std::borrow::Cow::Borrowed(*k), std::borrow::Cow::Borrowed(v.as_str())))
            .collect();
        r
    }
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
                out.record(at, self.record(t, msg));
            }
            None => out.record(at, self.record(RawTime::None, line)),
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
    fn must_gather_pod_logs_name_their_pod() {
        let path = "must-gather.local.5/quay-io-openshift-must-gather-sha256-0a1b/namespaces/openstack/pods/libvirt-libvirt-default-4x9kq/libvirt/libvirt/logs/previous.log";
        let got = run(
            parser(&SourceCtx { path: path.into(), ..SourceCtx::default() }),
            "2025-03-11T00:14:07.123456789Z + exec libvirtd --listen\n",
        );
        let crate::formats::testing::Got::Rec { fields, .. } = &got[0] else { panic!() };
        assert_eq!(
            fields,
            &[
                ("namespace".into(), "openstack".into()),
                ("pod".into(), "libvirt-libvirt-default-4x9kq".into()),
                ("container".into(), "libvirt".into())
            ]
        );
        assert!(pod_log_fields("a/namespaces/x/pods/p/c/d/logs/current.log").is_empty());
    }

    #[test]
    fn plain_keeps_whole_lines() {
        let r = records(&run(plain_parser(&SourceCtx::default()), "2025-10-13T19:51:02Z start"));
        assert_eq!(r[0], (RawTime::None, None, "2025-10-13T19:51:02Z start".into()));
    }
}
