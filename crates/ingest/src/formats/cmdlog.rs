//! A log of commands and their outputs, as rootline's fault lab writes it (`steps.log`).
//!
//! ```text
//! === 2026-11-28 22:38:28 [5.28] lab start: mode=offline no_path_retry=queue
//! === 2026-11-28 22:38:45 [22.64] # multipath -ll
//! mpatha (333333330000007d0) dm-0 LABSAN,VDISK-MP
//! size=64M features='1 queue_if_no_path' hwhandler='1 alua' wp=rw
//! (exit status 0)
//! ```
//!
//! Other collection scripts mark their steps with `### `, `--- `, `>>> ` (three to five of the same
//! character) and write the time as `date -Is` or `date` prints it (`### 2025-06-17T04:22:31-05:00 #
//! uptime`); such headers are read the same way.
//!
//! Each `=== <local time> [<seconds since boot>]` header is a record (program `command-log`) carrying
//! both the wall time and `boot_nanos`, so it anchors the same host's kernel ring buffer. A header
//! with `# cmd` starts a section whose output is read by [`super::snapshot::for_command`] and stamped
//! with the header's time; other headers are notes, and what follows them is read by content. A
//! non-zero `(exit status N)` is a record of its own (field `exit_status`); a zero one is skipped.
//! Output lines no snapshot reader can place are records with the section's time, never dropped.
//!
//! See: `/work/shared/lab/README.md` (steps.log) and the lab's `tools/init` that writes it.

use std::borrow::Cow;

use super::snapshot;
use super::util::{parse_u64, trim};
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::{parse_fraction, parse_iso};
use crate::time::RawTime;

/// True when `line` is a command log header or an `(exit status N)` line.
pub fn detect(line: &[u8]) -> bool {
    header(line).is_some() || exit_status(line).is_some()
}

/// True for a command-log header line (`=== 2026-11-28 22:38:45 [22.64] ...`).
pub(crate) fn is_header(line: &[u8]) -> bool {
    header(line).is_some()
}

fn exit_status(line: &[u8]) -> Option<u64> {
    line.strip_prefix(b"(exit status ").and_then(|r| r.strip_suffix(b")")).and_then(parse_u64)
}

/// A command log parser.
pub fn parser(_: &SourceCtx) -> Box<dyn Parser> {
    Box::new(CmdLogParser { section: None, time: RawTime::None, cmd: String::new() })
}

/// A header: time, seconds since boot, and the text after them.
struct Header<'a> {
    time: RawTime,
    boot: Option<i64>,
    text: &'a [u8],
}

/// The marker a collection script puts before each step: three to five of `=`, `#`, `-`, `*`, `+`
/// or `>` and a space (`=== `, `### `, `>>> `), as `echo "### $(date -Is) # $cmd"` writes it.
fn marker(line: &[u8]) -> Option<&[u8]> {
    let c = *line.first()?;
    if !matches!(c, b'=' | b'#' | b'-' | b'*' | b'+' | b'>') {
        return None;
    }
    let n = line.iter().take_while(|&&b| b == c).count();
    (3..=5).contains(&n).then(|| line[n..].strip_prefix(b" ")).flatten()
}

/// The time at the start of a header: ISO 8601 / RFC 3339 (`date -Is`, `date '+%F %T'`), or what
/// `date` prints by default before ` # ` or ` [` (`Tue Jun 17 04:22:31 CDT 2025 # uptime`).
fn header_time(rest: &[u8]) -> Option<(RawTime, usize)> {
    if let Some((t, n)) = parse_iso(rest) {
        return (n >= 19).then_some((t, n));
    }
    let end = memchr::memmem::find(rest, b" # ").or_else(|| memchr::memmem::find(rest, b" ["))?;
    let d = crate::time::date_output::parse(&rest[..end])?;
    Some((d.raw(), end))
}

fn header(line: &[u8]) -> Option<Header<'_>> {
    let rest = marker(line)?;
    let (time, n) = header_time(rest)?;
    let mut rest = rest[n..].strip_prefix(b" ").unwrap_or(&rest[n..]);
    let mut boot = None;
    if let Some(r) = rest.strip_prefix(b"[") {
        let end = memchr::memchr(b']', r)?;
        let inner = trim(&r[..end]);
        let (secs, frac) = match memchr::memchr(b'.', inner) {
            Some(d) => {
                let (f, k) = parse_fraction(&inner[d + 1..]);
                if k == 0 || d + 1 + k != inner.len() {
                    return None;
                }
                (&inner[..d], f)
            }
            None => (inner, 0),
        };
        let s = parse_u64(secs).filter(|s| *s < 1 << 32)?;
        boot = Some(s as i64 * 1_000_000_000 + frac);
        rest = r[end + 1..].strip_prefix(b" ").unwrap_or(&r[end + 1..]);
    }
    Some(Header { time, boot, text: rest })
}

struct CmdLogParser {
    section: Option<Box<dyn Parser>>,
    time: RawTime,
    cmd: String,
}

impl CmdLogParser {
    fn end_section(&mut self, out: &mut dyn Sink) {
        if let Some(mut s) = self.section.take() {
            s.finish(out);
        }
    }
}

impl Parser for CmdLogParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        if let Some(h) = header(line) {
            self.end_section(out);
            let cmd = h.text.strip_prefix(b"# ").map(trim);
            self.time = h.time;
            self.cmd.clear();
            if let Some(c) = cmd {
                self.cmd.push_str(&String::from_utf8_lossy(c));
            }
            let mut rec = Record::new(h.time, h.text);
            rec.boot_nanos = h.boot;
            rec.program = Some(Cow::Borrowed("command-log"));
            if cmd.is_some() {
                rec.fields.push((Cow::Borrowed("command"), Cow::Borrowed(&self.cmd)));
            }
            out.record(at, rec);
            // A note (`process table (outage)`) may still be followed by output: read it by content.
            self.section = Some(snapshot::for_command(&self.cmd, h.time));
            return;
        }
        if let Some(n) = exit_status(line) {
            // The output ended: a record still being assembled (a map block) comes before this line.
            // A snapshot parser may be finished early and fed again.
            if let Some(s) = &mut self.section {
                s.finish(out);
            }
            if n == 0 {
                out.skip(at);
            } else {
                let mut rec = Record::new(self.time, line);
                rec.program = (!self.cmd.is_empty()).then_some(Cow::Borrowed(self.cmd.as_str()));
                rec.fields.push((Cow::Borrowed("exit_status"), Cow::Owned(n.to_string())));
                out.record(at, rec);
            }
            return;
        }
        match &mut self.section {
            Some(s) => s.feed(at, line, out),
            None if trim(line).is_empty() => out.skip(at),
            None => out.unparsed(at, line),
        }
    }

    fn finish(&mut self, out: &mut dyn Sink) {
        self.end_section(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testing::{records, run, Got};

    #[test]
    fn lab_steps() {
        let got = run(
            parser(&SourceCtx::default()),
            "=== 2026-11-28 22:38:28 [5.28] lab start: mode=offline no_path_retry=queue\n\
             === 2026-11-28 22:38:45 [22.64] # multipath -ll\n\
             mpatha (333333330000007d0) dm-0 LABSAN,VDISK-MP\n\
             size=64M features='1 queue_if_no_path' hwhandler='1 alua' wp=rw\n\
             (exit status 0)\n\
             === 2026-11-28 22:39:54 [91.47] # multipath -f mpatha\n\
             91.641391 | mpatha: map in use\n\
             (exit status 1)\n",
        );
        let Got::Rec { time, boot, program, message, .. } = &got[0] else { panic!() };
        assert!(matches!(time, RawTime::Naive { .. }));
        assert_eq!(*boot, Some(5_280_000_000));
        assert_eq!(program.as_deref(), Some("command-log"));
        assert_eq!(message, "lab start: mode=offline no_path_retry=queue");
        let Got::Rec { boot, message, fields, time: t2, .. } = &got[1] else { panic!() };
        assert_eq!(*boot, Some(22_640_000_000));
        assert_eq!(message, "# multipath -ll");
        assert_eq!(fields[0], ("command".into(), "multipath -ll".into()));
        let Got::Rec { time, program, fields, boot, .. } = &got[2] else { panic!() };
        assert_eq!((time, program.as_deref(), *boot), (t2, Some("multipath -ll"), None));
        assert!(fields.contains(&("map".into(), "mpatha".into())));
        assert!(matches!(got[3], Got::Attach(4, _)));
        assert_eq!(got[4], Got::Skip(5));
        let r = records(&got);
        assert_eq!(r[4].2, "91.641391 | mpatha: map in use");
        assert_eq!(r[4].1.as_deref(), Some("multipath -f mpatha"));
        let Got::Rec { fields, .. } = got.last().unwrap() else { panic!() };
        assert_eq!(fields[0], ("exit_status".into(), "1".into()));
    }

    #[test]
    fn notes_followed_by_output_are_read_by_content() {
        let got = run(
            parser(&SourceCtx::default()),
            "=== 2026-11-28 22:39:53 [90.17] process table (outage)\n\
             PID   PPID  STAT COMMAND          COMMAND\n  416     1 D    dd               {dd} sh -c sleep 1\n\
             pid=275 state=D comm=jbd2/dm-0-8 ppid=2 wchan=folio_wait_bit_common\n    [<0>] folio_wait_bit_common+0x13d/0x380\n",
        );
        assert_eq!(got[1], Got::Skip(2));
        let Got::Rec { fields, .. } = &got[2] else { panic!("{got:?}") };
        assert!(fields.contains(&("pid".into(), "416".into())));
        assert!(matches!(&got[3], Got::Rec { line: 4, .. }));
        assert!(matches!(&got[4], Got::Attach(5, _)));
    }

    #[test]
    fn collection_scripts_mark_their_steps_in_other_ways() {
        let got = run(
            parser(&SourceCtx::default()),
            "### 2025-06-17T04:22:31-05:00 # uptime\n\
             \x2004:22:31 up 38 days, 11:02,  2 users,  load average: 41.22, 40.87, 39.95\n\
             >>> Tue Jun 17 04:22:32 CDT 2025 # multipath -ll\n\
             mpathg (36005076812808052a8000000000004f7) dm-5 IBM,2145\n",
        );
        let Got::Rec { time, message, .. } = &got[0] else { panic!("{got:?}") };
        assert_eq!(*time, RawTime::Exact { unix_nanos: 1_750_152_151_000_000_000, offset_secs: -18_000 });
        assert_eq!(message, "# uptime");
        let r = records(&got);
        let mp = r.iter().find(|x| x.2.starts_with("mpathg")).expect("map record");
        assert_eq!(mp.0, RawTime::Exact { unix_nanos: 1_750_152_152_000_000_000, offset_secs: -18_000 });
        assert!(!detect(b"### Installation"));
        assert!(!detect(b"-- Logs begin at Mon 2025-10-13 09:00:01 KST. --"));
        assert!(!detect(b"###### 2025-06-17T04:22:31-05:00 # uptime"));
    }

    #[test]
    fn near_misses_and_garbage() {
        assert!(detect(b"=== 2026-11-28 22:38:28 [5.28] lab start"));
        assert!(detect(b"=== 2026-11-28 22:38:28 # uptime"));
        assert!(!detect(b"=== not a header"));
        assert!(!detect(b"== 2026-11-28 22:38:28 [5.28] x"));
        assert!(!detect(b"=== 2026-11-28 22:38:28 [5.2x] x"));
        let got = run(parser(&SourceCtx::default()), "stray line\n\n(exit status x)\n");
        assert_eq!(got[0], Got::Unparsed(1, "stray line".into()));
        assert_eq!(got[1], Got::Skip(2));
        assert!(matches!(got[2], Got::Unparsed(3, _)));
    }
}
