//! `rootline templates PATH...`: the message templates of the evidence, with counts, first and last
//! seen, an example line, and how often each host logged them; or, with `--per-line`, each line's
//! template.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use rootline_event::{base64_if_invalid, count, lossless_str, Event, Timestamp};
use rootline_template::{Config, Miner, Template, TemplateId};

use super::common::{FilterArgs, InputArgs, OutputArgs};
use super::progress::{Phase, Progress};

/// Mine message templates: which lines are the same event with different values.
///
/// Each event is mined on its first line (a kernel call trace attached to its header does not count),
/// in one streaming pass with bounded memory; the same parameters serve every kind of log.
/// Ids are stable within one run; a template merged into another reports the survivor's id.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    rootline templates examples/incidents/seed-37 | head -30\n  \
    rootline templates /var/log/messages --host node37 --json | jq .\n  \
    rootline templates --input-format plain --per-line messages.txt -o per-line.jsonl\n\n\
    Exit codes: 0 done, 2 usage or input error (nothing could be read).")]
#[command(mut_arg("format", |a| a.help("Output format: text (default) or json (one JSON object per template: \
    template_id, template, count, first, last, hosts, example, path, line; most frequent first; see \
    docs/guide.md)")))]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    filter: FilterArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Instead of the templates, one JSON object per input event in input order (by file, then line):
    /// {"path", "line", "template_id", "template"}.
    #[arg(long)]
    per_line: bool,
    /// Keep at most this many templates in memory; the least recently used are retired beyond it.
    #[arg(long, value_name = "N", default_value_t = 50_000)]
    max_templates: usize,
}

/// What is known about one template across the events it matched.
struct Seen {
    count: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    hosts: BTreeMap<Arc<str>, u64>,
    example: Event,
}

/// Runs the command.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let json = a.output.format(&["text", "json"], true)? == "json";
    let mut opts = a.input.options()?;
    let query = a.filter.query(&a.input.zone()?)?;
    let mut progress = Progress::start(super::progress::wanted(a.input.quiet));
    opts.progress = Some(progress.ingest.clone());
    let timeline = rootline_ingest::read(&a.input.paths, &opts);
    let stats = timeline.stats.clone();
    progress.phase(Phase::Mining, stats.events);
    let mined = progress.events.clone();
    let mut miner =
        Miner::new(Config { max_templates: a.max_templates.max(1), keep_evicted: true, ..Config::default() });
    let mut retired: HashMap<TemplateId, Template> = HashMap::new();
    // Ordered by id (creation order): folding them below keeps the earliest example, every run.
    let mut seen: BTreeMap<TemplateId, Seen> = BTreeMap::new();
    let mut lines: Vec<(Arc<str>, u64, TemplateId)> = Vec::new();
    for (n, ev) in timeline.into_events().enumerate() {
        if n % 4096 == 0 {
            mined.store(n as u64, std::sync::atomic::Ordering::Relaxed);
        }
        if !query.matches(&ev) {
            continue;
        }
        let id = miner.observe(ev.headline());
        retired.extend(miner.take_evicted().into_iter().map(|t| (t.id, t)));
        if a.per_line {
            lines.push((ev.provenance.path.clone(), ev.provenance.line, id));
            continue;
        }
        let s = seen.entry(id).or_insert_with(|| Seen {
            count: 0,
            first: ev.time,
            last: ev.time,
            hosts: BTreeMap::new(),
            example: ev.clone(),
        });
        s.count += 1;
        if let Some(t) = ev.time {
            s.first = Some(s.first.map_or(t, |f| if t.unix_nanos < f.unix_nanos { t } else { f }));
            s.last = Some(s.last.map_or(t, |l| if t.unix_nanos > l.unix_nanos { t } else { l }));
        }
        let host: Arc<str> = ev.host.clone().unwrap_or_else(|| Arc::from("-"));
        *s.hosts.entry(host).or_default() += 1;
    }
    // The text of a (resolved) template id, also for templates retired from memory.
    let text_of = |id: TemplateId| -> (TemplateId, String) {
        let r = miner.resolve(id);
        match miner.template(r).or_else(|| retired.get(&r)) {
            Some(t) => (r, t.render()),
            None => (r, String::new()),
        }
    };
    progress.finish();
    let mut w = a.output.writer()?;
    if a.per_line {
        lines.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.cmp(&y.1)));
        let mut cache: HashMap<TemplateId, (TemplateId, String)> = HashMap::new();
        for (path, line, id) in &lines {
            let (r, text) = cache.entry(*id).or_insert_with(|| text_of(*id));
            let obj = serde_json::json!({"path": &**path, "line": line, "template_id": r.0, "template": text});
            serde_json::to_writer(&mut w, &obj)?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
        return Ok(exit_for(&stats));
    }
    // Fold the per-id records into their surviving templates.
    let mut merged: BTreeMap<TemplateId, Seen> = BTreeMap::new();
    for (id, s) in seen {
        let r = miner.resolve(id);
        match merged.get_mut(&r) {
            None => {
                merged.insert(r, s);
            }
            Some(m) => {
                m.count += s.count;
                m.first = min_time(m.first, s.first);
                m.last = max_time(m.last, s.last);
                for (h, n) in s.hosts {
                    *m.hosts.entry(h).or_default() += n;
                }
            }
        }
    }
    let mut rows: Vec<(TemplateId, String, Seen)> = merged.into_iter().map(|(id, s)| (id, text_of(id).1, s)).collect();
    rows.sort_by(|x, y| y.2.count.cmp(&x.2.count).then(x.0.cmp(&y.0)));
    for (id, text, s) in &rows {
        if json {
            let hosts: serde_json::Map<String, serde_json::Value> =
                s.hosts.iter().map(|(h, n)| (h.to_string(), serde_json::Value::from(*n))).collect();
            let mut obj = serde_json::json!({
                "template_id": id.0,
                "template": text,
                "count": s.count,
                "first": s.first.map(|t| t.to_rfc3339()),
                "last": s.last.map(|t| t.to_rfc3339()),
                "hosts": hosts,
                "example": lossless_str(s.example.headline()),
                "path": &*s.example.provenance.path,
                "line": s.example.provenance.line,
            });
            if let Some(b) = base64_if_invalid(s.example.headline()) {
                obj["example_base64"] = b.into();
            }
            serde_json::to_writer(&mut w, &obj)?;
            w.write_all(b"\n")?;
        } else {
            let hosts: Vec<String> = s.hosts.iter().map(|(h, n)| format!("{h} {n}")).collect();
            writeln!(w, "{id:<7} {:>8}  {text}", s.count)?;
            writeln!(
                w,
                "        first {}  last {}  hosts: {}",
                s.first.map(|t| t.to_rfc3339()).as_deref().unwrap_or("-"),
                s.last.map(|t| t.to_rfc3339()).as_deref().unwrap_or("-"),
                hosts.join(", ")
            )?;
            writeln!(
                w,
                "        e.g. {}:{}: {}",
                s.example.provenance.path,
                s.example.provenance.line,
                lossless_str(s.example.headline())
            )?;
        }
    }
    w.flush()?;
    drop(w);
    if stats.unparsed_lines > 0 || !stats.skipped.is_empty() {
        eprintln!(
            "rootline: {} over {}; {} read, {} skipped (details: rootline timeline --stats)",
            count(rows.len() as u64, "template"),
            count(stats.events, "event"),
            count(stats.files, "file"),
            stats.skipped.len()
        );
    }
    Ok(exit_for(&stats))
}

fn min_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.unix_nanos < x.unix_nanos { y } else { x }),
        (x, y) => x.or(y),
    }
}

fn max_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.unix_nanos > x.unix_nanos { y } else { x }),
        (x, y) => x.or(y),
    }
}

/// Exit 2 when nothing at all could be read; 0 otherwise.
fn exit_for(stats: &rootline_ingest::Stats) -> ExitCode {
    super::common::nothing_read(stats, false).unwrap_or(ExitCode::SUCCESS)
}
