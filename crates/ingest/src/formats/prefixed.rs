//! Lines of another format behind a time stamp that a collector put in front of each of them.
//!
//! `kubectl logs --timestamps` and `docker logs -t` write every line of a container's output as
//! `<RFC 3339 with nanoseconds> <the line as the program wrote it>`:
//!
//! ```text
//! 2025-03-11T03:32:41.873002792Z 2025-03-11 03:32:41.873 14 INFO nova.virt.libvirt.driver [-] ...
//! 2025-03-11T03:32:41.900015822Z 2025-03-11 03:32:41.900 14 ERROR nova.compute.manager Traceback ...
//! ```
//!
//! The rest of each line is read by the parser of its own format (detected on the sampled lines
//! with their stamps removed), so an oslo.log line keeps its level, logger, request id and
//! traceback; the record's time is the stamp in front, which carries its zone, where the program's
//! own time is often a container's naive UTC clock.
//!
//! See: kubectl `logs --timestamps` (kubelet's log API `timestamps=true`, RFC 3339 nano), docker
//! `logs --timestamps`.

use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::parse_iso;
use crate::time::RawTime;
use rootline_event::Format;

/// The stamp a collector put in front of a line: an RFC 3339 time with a zone, then one space.
fn stamp(line: &[u8]) -> Option<(RawTime, usize)> {
    match parse_iso(line)? {
        (t @ RawTime::Exact { .. }, n) if line.get(n) == Some(&b' ') && n >= 20 => Some((t, n + 1)),
        _ => None,
    }
}

/// The format of the lines behind the stamps, when nearly every sampled line has a stamp and what
/// follows it is a known format of its own (not plain text, and not a format whose lines start
/// with such a stamp themselves, as CRI's do).
pub fn inner_format(path: &str, sample: &[&[u8]]) -> Option<Format> {
    let lines: Vec<&[u8]> = sample.iter().copied().filter(|l| !l.iter().all(u8::is_ascii_whitespace)).collect();
    if lines.len() < 2 {
        return None;
    }
    let rests: Vec<&[u8]> = lines.iter().filter_map(|l| stamp(l).map(|(_, n)| &l[n..])).collect();
    if rests.len() * 10 < lines.len() * 9 {
        return None;
    }
    match super::detect(path, &rests) {
        Format::Generic | Format::Plain | Format::Cri | Format::Journal | Format::JsonLines => None,
        f => Some(f),
    }
}

/// A parser of `inner`'s lines behind stamps.
pub fn parser(inner: Format, ctx: &SourceCtx) -> Box<dyn Parser> {
    Box::new(Prefixed { inner: (super::spec(inner).parser)(ctx), time: RawTime::None })
}

struct Prefixed {
    inner: Box<dyn Parser>,
    time: RawTime,
}

/// Passes records on with the stamp's time.
struct Stamped<'s> {
    out: &'s mut dyn Sink,
    time: RawTime,
}

impl Sink for Stamped<'_> {
    fn record(&mut self, at: LinePos, mut rec: Record<'_>) {
        if self.time.is_some() {
            rec.time = self.time;
        }
        self.out.record(at, rec);
    }
    fn attach(&mut self, at: LinePos, line: &[u8]) {
        self.out.attach(at, line);
    }
    fn skip(&mut self, at: LinePos) {
        self.out.skip(at);
    }
    fn unparsed(&mut self, at: LinePos, line: &[u8]) {
        self.out.unparsed(at, line);
    }
}

impl Parser for Prefixed {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        let rest = match stamp(line) {
            Some((t, n)) => {
                self.time = t;
                &line[n..]
            }
            None => line,
        };
        self.inner.feed(at, rest, &mut Stamped { out, time: self.time });
    }

    fn finish(&mut self, out: &mut dyn Sink) {
        self.inner.finish(&mut Stamped { out, time: self.time });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOVA: &str = "2025-03-11T03:32:41.873002792Z 2025-03-11 03:32:41.873 14 INFO nova.virt.libvirt.driver [-] Connection event '0' reason 'Connection to libvirt lost: 2'\n\
2025-03-11T03:32:41.900015822Z 2025-03-11 03:32:41.900 14 ERROR nova.compute.manager Traceback (most recent call last):\n\
2025-03-11T03:32:41.900016000Z 2025-03-11 03:32:41.900 14 ERROR nova.compute.manager   File \"/usr/lib/python3/dist-packages/nova/compute/manager.py\", line 10511, in update_available_resource_for_node\n";

    #[test]
    fn kubectl_timestamps_wrap_the_programs_own_format() {
        let sample: Vec<&[u8]> = NOVA.lines().map(str::as_bytes).collect();
        assert_eq!(inner_format("nova-compute.log", &sample), Some(Format::Oslo));
        let got = crate::formats::testing::run(parser(Format::Oslo, &SourceCtx::default()), NOVA);
        let recs = crate::formats::testing::records(&got);
        assert!(!recs.is_empty());
        // The stamp in front, with its zone, is the time; the rest is read as oslo.log.
        assert!(
            matches!(recs[0].0, RawTime::Exact { unix_nanos: 1_741_663_961_873_002_792, offset_secs: 0 }),
            "{recs:?}"
        );
        assert!(recs[0].2.starts_with("Connection event '0'"), "{recs:?}");
    }

    #[test]
    fn plain_stamped_text_and_cri_are_left_alone() {
        let text: Vec<&[u8]> = vec![b"2025-03-11T03:32:41Z something happened", b"2025-03-11T03:32:42Z and more"];
        assert_eq!(inner_format("x.log", &text), None);
        let cri: Vec<&[u8]> = vec![b"2025-03-11T03:32:41.1Z stdout F hello", b"2025-03-11T03:32:41.2Z stderr F world"];
        assert_eq!(inner_format("x.log", &cri), None);
    }
}
