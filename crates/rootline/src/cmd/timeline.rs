//! `rootline timeline PATH...`: the merged timeline, as text columns or JSON lines, or `--stats`.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use super::common::{FilterArgs, InputArgs, OutputArgs};
use std::sync::Arc;

use rootline_event::{count, Event, Format, Provenance, TimeKind, Timestamp};
use rootline_template::collapse::{Collapser, Offer, Repeats};

use crate::out::{write_event_json, TextWriter};

/// Lines per batch handed from the collapsing thread to the printing one.
const BATCH: usize = 1024;
/// Bytes of output collected before they are written.
const OUT: usize = 256 * 1024;

/// Merge every input into one timeline.
///
/// Formats are detected per file (syslog, journalctl, dmesg, klog, logfmt, CRI, oslo.log, libvirt,
/// Kubernetes events, OpenSearch JSON, command outputs, anything with ISO stamps). Year-less lines,
/// local times and seconds-since-boot are placed on one clock; equal times keep input order.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    rootline timeline examples/incidents/seed-37 --since '2025-10-13 19:40' --until '2025-10-13 20:10'\n  \
    rootline timeline sosreport-node37.tar.xz --grep 'dm-21|sd[st]\\b' --json | jq .\n  \
    rootline timeline /var/log/messages dmesg.txt --stats\n  \
    rootline timeline --input-format syslog remote.log -o timeline.txt\n\n\
    Exit codes: 0 done, 2 usage or input error (nothing could be read).")]
#[command(mut_arg("format", |a| a.help("Output format: text (default, aligned columns) or json (one JSON object per \
    event: time, time_kind, host, format, program, pid, severity, message, path, line, byte_offset, fields; \
    see docs/guide.md); with --stats, the statistics as text or one JSON object")))]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    filter: FilterArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Print what was read instead of the timeline: files, lines, events, unparsed lines, skipped
    /// files with reasons, per-source time range, boot anchors and estimated clock skew.
    #[arg(long)]
    stats: bool,
    /// Collapse repeats: show the first line of a message template, count the ones that follow it
    /// from the same host and program within SECONDS of each other, and print one summary line
    /// (`... x45 more over 90 s`) where they stop. Default window when given without a value: 60 s.
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "60")]
    collapse: Option<u64>,
}

/// Runs the command.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let json = a.output.format(&["text", "json"], true)? == "json";
    let mut opts = a.input.options()?;
    let query = a.filter.query(&a.input.zone()?)?;
    // Only --stats waits silently for the whole read; a timeline prints as it goes.
    let mut progress = super::progress::Progress::start(a.stats && super::progress::wanted(a.input.quiet));
    opts.progress = Some(progress.ingest.clone());
    let timeline = rootline_ingest::read(&a.input.paths, &opts);
    progress.finish();
    let stats = timeline.stats.clone();
    let mut w = a.output.writer()?;
    if a.stats {
        if json {
            serde_json::to_writer_pretty(&mut w, &stats)?;
            writeln!(w)?;
        } else {
            write_stats(&mut w, &stats)?;
        }
        w.flush()?;
        return Ok(exit_for(&stats));
    }
    let mut text = TextWriter::new(crate::out::color(a.output.to_terminal()));
    let mut shown = 0u64;
    let mut events = timeline.into_events();
    let mut out = Vec::with_capacity(OUT + 64 * 1024);
    let Some(collapse) = a.collapse else {
        // Each event is printed from the merge's own blocks, borrowed (no owned event per line),
        // on this thread; the merge's workers read and resolve the runs meanwhile.
        while let Some(ev) = events.next_ref() {
            if !query.matches(ev) {
                continue;
            }
            shown += 1;
            if json {
                write_event_json(&mut out, ev)?;
                out.push(b'\n');
            } else {
                text.push(&mut out, ev);
            }
            if out.len() >= OUT {
                w.write_all(&out)?;
                out.clear();
            }
        }
        w.write_all(&out)?;
        w.flush()?;
        drop(w);
        note(&stats, shown);
        return Ok(exit_for(&stats));
    };
    // Collapsing (template mining over owned events) and printing run on two threads: batches of
    // lines pass through a small bounded channel, so memory stays bounded.
    std::thread::scope(|s| -> anyhow::Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Line>>(8);
        s.spawn(move || {
            let mut c = Collapsing::new(collapse.saturating_mul(1_000_000_000) as i64);
            let mut batch = Vec::with_capacity(BATCH);
            let mut send = |line: Line| {
                batch.push(line);
                batch.len() < BATCH || tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_ok()
            };
            while let Some(ev) = events.next_ref() {
                if query.matches(ev) && !c.push(ev.to_event(), &mut send) {
                    return; // the printer stopped (closed pipe)
                }
            }
            c.finish(&mut send);
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
        });
        for batch in rx {
            for line in &batch {
                match line {
                    Line::Event(ev) => {
                        shown += 1;
                        if json {
                            write_event_json(&mut out, ev.into())?;
                            out.push(b'\n');
                        } else {
                            text.push(&mut out, ev.into());
                        }
                    }
                    Line::Held(_) => {}
                    Line::Repeats(r) => {
                        if json {
                            serde_json::to_writer(&mut out, &repeats_json(r))?;
                            out.push(b'\n');
                        } else {
                            text.push(&mut out, (&repeats_event(r)).into());
                        }
                    }
                }
            }
            w.write_all(&out)?;
            out.clear();
        }
        Ok(())
    })?;
    w.flush()?;
    drop(w);
    note(&stats, shown);
    Ok(exit_for(&stats))
}

/// What the merging thread hands the printer (and, while it waits in the queue, a held line).
enum Line {
    Event(Event),
    Repeats(Repeats<LineRef>),
    /// The first repeat of a run, kept until the run ends: printed if it stays the only one.
    Held(Event),
}

/// How a collapsed line is referred to: its file, line, position in the stream, and UTC offset.
type LineRef = (Arc<str>, u64, u64, i32);

/// Collapses repeats and puts each summary right after the last line it stands for, holding lines
/// back for one window (bounded memory) so summaries can be placed in time order.
struct Collapsing {
    c: Collapser<LineRef>,
    window: i64,
    queue: std::collections::VecDeque<(u64, Option<i64>, Line)>,
    seq: u64,
}

impl Collapsing {
    fn new(window: i64) -> Self {
        Collapsing { c: Collapser::new(window), window, queue: Default::default(), seq: 0 }
    }

    fn place(&mut self, closed: Vec<Repeats<LineRef>>) {
        for r in closed {
            let at = self.queue.partition_point(|e| e.0 <= r.last_ref.2);
            // One repeat is not summarised: the held line itself is shown where it stands. It is
            // still queued: a line leaves the queue a window after its time, and its run (whose last
            // line it is) closes a window after that same time, before the queue moves past it.
            if r.hidden == 1 && at > 0 {
                if let Some(e) = self.queue.get_mut(at - 1).filter(|e| e.0 == r.last_ref.2) {
                    if let Line::Held(ev) = std::mem::replace(&mut e.2, Line::Repeats(r)) {
                        e.2 = Line::Event(ev);
                    }
                    continue;
                }
            }
            self.queue.insert(at, (r.last_ref.2, Some(r.last), Line::Repeats(r)));
        }
    }

    /// Takes the next event; hands lines that can no longer move on to `out` (false: stop).
    fn push(&mut self, ev: Event, out: &mut dyn FnMut(Line) -> bool) -> bool {
        let seq = self.seq;
        self.seq += 1;
        let t = ev.time.map(|t| t.unix_nanos);
        let group =
            format!("{}\t{}", ev.host.as_deref().unwrap_or("-"), ev.program.as_deref().unwrap_or(ev.format.as_str()));
        let at = (ev.provenance.path.clone(), ev.provenance.line, seq, ev.time.map_or(0, |t| t.offset_secs));
        let (offer, closed) = self.c.offer(&group, t, ev.headline(), at);
        self.place(closed);
        match offer {
            Offer::Show => self.queue.push_back((seq, t, Line::Event(ev))),
            Offer::Hold => self.queue.push_back((seq, t, Line::Held(ev))),
            Offer::Hide => {}
        }
        let Some(t) = t else { return true };
        // Nothing can be placed before a line older than one window: it is final.
        while self.queue.front().is_some_and(|f| f.1.is_none_or(|ft| ft < t.saturating_sub(self.window))) {
            let (_, _, line) = self.queue.pop_front().expect("front exists");
            // A held line still held here is counted in its run's summary.
            if !matches!(line, Line::Held(_)) && !out(line) {
                return false;
            }
        }
        true
    }

    fn finish(&mut self, out: &mut dyn FnMut(Line) -> bool) {
        let closed = self.c.finish();
        self.place(closed);
        while let Some((_, _, line)) = self.queue.pop_front() {
            if !matches!(line, Line::Held(_)) && !out(line) {
                return;
            }
        }
    }
}

fn split_group(g: &str) -> (&str, &str) {
    g.split_once('\t').unwrap_or((g, "-"))
}

fn repeat_text(r: &Repeats<LineRef>) -> String {
    let secs = (r.last - r.first) as f64 / 1e9;
    format!("... x{} more \"{}\" over {secs:.0} s (last: {}:{})", r.hidden, r.template, r.last_ref.0, r.last_ref.1)
}

/// A summary of hidden repeats, shaped as an event so it prints in the same columns.
fn repeats_event(r: &Repeats<LineRef>) -> Event {
    let (host, program) = split_group(&r.group);
    let mut ev = Event::new(Format::Generic, Provenance::new(r.last_ref.0.clone(), r.last_ref.1, 0));
    ev.time = Some(Timestamp::from_unix_nanos(r.last, r.last_ref.3));
    ev.time_kind = TimeKind::Exact;
    ev.host = Some(Arc::from(host));
    ev.program = Some(program.into());
    ev.set_message(repeat_text(r).as_bytes());
    ev
}

fn repeats_json(r: &Repeats<LineRef>) -> serde_json::Value {
    let (host, program) = split_group(&r.group);
    serde_json::json!({
        "repeats": r.hidden,
        "template": r.template,
        "host": host,
        "program": program,
        "first": Timestamp::from_unix_nanos(r.first, r.last_ref.3).to_rfc3339(),
        "last": Timestamp::from_unix_nanos(r.last, r.last_ref.3).to_rfc3339(),
        "path": &*r.last_ref.0,
        "line": r.last_ref.1,
    })
}

/// Exit 2 when nothing at all could be read (the reasons were shown by `note` or `--stats`); 0
/// otherwise.
fn exit_for(stats: &rootline_ingest::Stats) -> ExitCode {
    super::common::nothing_read(stats, true).unwrap_or(ExitCode::SUCCESS)
}

/// A one-line reminder on stderr when something was skipped, cut or unparsed.
fn note(s: &rootline_ingest::Stats, shown: u64) {
    let skipped = &s.skipped;
    if skipped.is_empty() && s.warnings.is_empty() && s.unparsed_lines == 0 && !io::stderr().is_terminal() {
        return;
    }
    for k in skipped.iter().take(5) {
        eprintln!("rootline: skipped {}: {}", k.path, k.reason);
    }
    for k in s.warnings.iter().take(5) {
        eprintln!("rootline: warning: {}: {}", k.path, k.reason);
    }
    eprintln!(
        "rootline: {} shown; read {}, {}, {}, {}, {} skipped, {} (details: --stats)",
        count(shown, "event"),
        count(s.files, "file"),
        count(s.lines, "line"),
        count(s.events, "event"),
        count(s.unparsed_lines, "unparsed line"),
        skipped.len(),
        count(s.warnings.len() as u64, "warning")
    );
}

fn write_stats(w: &mut dyn Write, s: &rootline_ingest::Stats) -> io::Result<()> {
    writeln!(w, "files           {}", s.files)?;
    writeln!(w, "lines           {}", s.lines)?;
    writeln!(w, "events          {}", s.events)?;
    writeln!(w, "unparsed lines  {}", s.unparsed_lines)?;
    writeln!(w, "bytes           {}", s.bytes)?;
    writeln!(w, "skipped         {}", s.skipped.len())?;
    for k in &s.skipped {
        writeln!(w, "  {}: {}", k.path, k.reason)?;
    }
    writeln!(w, "metadata        {}", s.metadata.len())?;
    for k in &s.metadata {
        writeln!(w, "  {}: {}", k.path, k.reason)?;
    }
    writeln!(w, "warnings        {}", s.warnings.len())?;
    for k in &s.warnings {
        writeln!(w, "  {}: {}", k.path, k.reason)?;
    }
    writeln!(w, "\nsources")?;
    for src in &s.sources {
        writeln!(w, "  {}", src.path)?;
        writeln!(
            w,
            "    format {}  host {}  lines {}  events {}  unparsed {}",
            src.format,
            src.host.as_deref().unwrap_or("-"),
            src.lines,
            src.events,
            src.unparsed_lines
        )?;
        writeln!(w, "    time {} .. {}", src.first.as_deref().unwrap_or("-"), src.last.as_deref().unwrap_or("-"))?;
        let kinds: Vec<String> = src.time_kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(w, "    time kinds: {}", kinds.join(", "))?;
        if src.out_of_order > 0 {
            writeln!(
                w,
                "    {} earlier than the line before {} (clock jump or interleaving); sorted",
                count(src.out_of_order, "line"),
                if src.out_of_order == 1 { "it" } else { "them" }
            )?;
        }
        if let Some(sk) = src.skew_secs {
            writeln!(w, "    estimated clock skew vs the host's reference source: {sk:+.3} s")?;
        }
        if let Some(t) = &src.snapshot_time {
            writeln!(w, "    snapshot taken {t}")?;
        }
        for (i, a) in src.boot_anchors.iter().enumerate() {
            match a {
                Some(a) => writeln!(w, "    boot {}: booted at {a}", i + 1)?,
                None => writeln!(w, "    boot {}: no anchor; times are relative to boot (use --boot-time)", i + 1)?,
            }
        }
    }
    Ok(())
}
