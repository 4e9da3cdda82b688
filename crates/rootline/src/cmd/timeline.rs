//! `rootline timeline PATH...`: the merged timeline, as text columns or JSON lines, or `--stats`.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use super::common::{FilterArgs, InputArgs};
use crate::out::{event_json, ColorChoice, TextWriter};

/// Events per batch handed from the merging thread to the printing one.
const BATCH: usize = 1024;

/// Merge every input into one timeline.
///
/// Formats are detected per file (syslog, journalctl, dmesg, klog, logfmt, CRI, oslo.log, libvirt,
/// Kubernetes events, OpenSearch JSON, command outputs, anything with ISO stamps). Year-less lines,
/// local times and seconds-since-boot are placed on one clock; equal times keep input order.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    rootline timeline examples/incidents/seed-37 --since '2025-10-13 19:40' --until '2025-10-13 20:10'\n  \
    rootline timeline sosreport-node37.tar.xz --grep 'dm-21|sd[st]\\b' --json | jq .\n  \
    rootline timeline /var/log/messages dmesg.txt --stats")]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    filter: FilterArgs,
    /// One JSON object per event (time, host, format, program, pid, severity, message, path, line,
    /// byte_offset); with --stats, the statistics as one JSON object.
    #[arg(long)]
    json: bool,
    /// Print what was read instead of the timeline: files, lines, events, unparsed lines, skipped
    /// files with reasons, per-source time range, boot anchors and estimated clock skew.
    #[arg(long)]
    stats: bool,
    /// Colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// Runs the command.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let opts = a.input.options()?;
    let query = a.filter.query(&a.input.zone()?)?;
    let timeline = rootline_ingest::read(&a.input.paths, &opts);
    let stats = timeline.stats.clone();
    let stdout = io::stdout();
    let mut w = BufWriter::with_capacity(256 * 1024, stdout.lock());
    if a.stats {
        if a.json {
            serde_json::to_writer_pretty(&mut w, &stats)?;
            writeln!(w)?;
        } else {
            write_stats(&mut w, &stats)?;
        }
        w.flush()?;
        return Ok(exit_for(&stats));
    }
    let mut text = TextWriter::new(a.color.enabled());
    let mut shown = 0u64;
    let json = a.json;
    // Merging (reading spilled runs, resolving times) and printing run on two threads: batches of
    // events pass through a small bounded channel, so memory stays bounded.
    let events = timeline.into_events();
    std::thread::scope(|s| -> anyhow::Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<rootline_event::Event>>(8);
        s.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            for ev in events {
                if !query.matches(&ev) {
                    continue;
                }
                batch.push(ev);
                if batch.len() == BATCH && tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err() {
                    return; // the printer stopped (closed pipe)
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
        });
        for batch in rx {
            for ev in &batch {
                shown += 1;
                if json {
                    serde_json::to_writer(&mut w, &event_json(ev))?;
                    w.write_all(b"\n")?;
                } else {
                    text.write(&mut w, ev)?;
                }
            }
        }
        Ok(())
    })?;
    w.flush()?;
    drop(w);
    note(&stats, shown);
    Ok(exit_for(&stats))
}

/// Exit 2 when nothing at all could be read (every input skipped); 0 otherwise.
fn exit_for(stats: &rootline_ingest::Stats) -> ExitCode {
    if stats.files == 0 && !stats.skipped.is_empty() {
        eprintln!("rootline: nothing could be read: every input was skipped (see the reasons above or --stats)");
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// A one-line reminder on stderr when something was skipped, cut or unparsed.
fn note(s: &rootline_ingest::Stats, shown: u64) {
    let skipped: Vec<_> = s.skipped.iter().filter(|k| !k.reason.starts_with("read as bundle metadata")).collect();
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
        "rootline: {} events shown; read {} files, {} lines, {} events, {} unparsed lines, {} skipped, {} warnings (details: --stats)",
        shown,
        s.files,
        s.lines,
        s.events,
        s.unparsed_lines,
        skipped.len(),
        s.warnings.len()
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
                "    {} lines earlier than the line before them (clock jump or interleaving); sorted",
                src.out_of_order
            )?;
        }
        if let Some(sk) = src.skew_secs {
            writeln!(w, "    estimated clock skew vs the host's reference source: {sk:+.3} s")?;
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
