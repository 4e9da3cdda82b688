//! Options shared by every command that reads evidence: what to read and how to read time.

use std::path::PathBuf;

use jiff::tz::TimeZone;
use rootline_ingest::{Format, Options, Query};

use super::{usage, UsageError};
use rootline_rules::{Lang, Pack};

/// What to read and how to interpret its times.
#[derive(clap::Args, Debug, Clone)]
pub struct InputArgs {
    /// Files, directories (read recursively), archives (.tar, .tar.gz/.tgz, .tar.xz, .tar.zst),
    /// compressed files (.gz, .zst, .xz, .bz2), or - for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Read every file as this input format instead of detecting it: syslog, journal, kernel, klog,
    /// logfmt, cri, oslo, libvirt, k8s-events, jsonlines, snapshot, command-log, terminal, generic,
    /// plain.
    #[arg(long = "input-format", value_name = "FORMAT")]
    pub input_format: Option<String>,

    /// Zone for times written without an offset: an IANA name (Asia/Seoul), UTC, or +09:00.
    /// Default: the bundle's etc/localtime when present, else this machine's zone.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,

    /// Year for lines that carry none (classic syslog, klog). Default: inferred from the host's other
    /// sources, the file's time, or now.
    #[arg(long, value_name = "YYYY")]
    pub year: Option<i16>,

    /// When the host booted (RFC 3339, or seconds since the epoch), to place kernel lines stamped in
    /// seconds since boot. Default: learnt from the evidence.
    #[arg(long, value_name = "TIME")]
    pub boot_time: Option<String>,

    /// Host name for events whose source names none (a dmesg file, a CRI log).
    #[arg(long, value_name = "HOST")]
    pub assume_host: Option<String>,

    /// "Now" for relative ages such as `5m` in `kubectl get events` tables (RFC 3339 or seconds since
    /// the epoch). Default: the file's modification time.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,

    /// Map a rootline field to a JSON path for JSON-lines sources, e.g. `host=kubernetes.host` or
    /// `message=log` (repeatable; fields: time, message, host, program, severity, pod, namespace,
    /// container).
    #[arg(long = "json-field", value_name = "FIELD=PATH")]
    pub json_fields: Vec<String>,

    /// Cut lines longer than this many bytes (a warning says where).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_line: usize,
    /// No progress on standard error (shown only on a terminal, for analyze, timeline --stats,
    /// templates and fleet).
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Filters over the merged events.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Only events of this host (repeatable).
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// Only events at or after this time (RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` in --tz).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only events whose message (with its attached lines) matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
    /// Only events of this format, program, or a path containing this text (repeatable).
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
}

/// Parses `--input-format`: a name of [`Format::ALL`], or none (detect per file).
pub fn parse_input_format(name: Option<&str>) -> anyhow::Result<Option<Format>> {
    let Some(f) = name else { return Ok(None) };
    match Format::from_name(f) {
        Some(f) => Ok(Some(f)),
        None => {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
            usage(format!("--input-format {f}: unknown input format; known: {}", names.join(", ")))
        }
    }
}

/// How a command writes what it prints: `--format` (the output format; each command lists its own),
/// `--json` (short for `--format json`) and `-o FILE`. `--color` is global (see `main.rs`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Output format (the values are listed per command).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Short for --format json.
    #[arg(long)]
    pub json: bool,
    /// Write the output to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutputArgs {
    /// The output format asked for, one of `allowed` (the first is the default). A name of an input
    /// format (`--format syslog`, the old spelling of `timeline --input-format syslog`) is a usage
    /// error that names `--input-format` where the command reads logs (`reads_logs`).
    pub fn format(&self, allowed: &[&'static str], reads_logs: bool) -> anyhow::Result<&'static str> {
        let list = allowed.join(", ");
        let asked = match (&self.format, self.json) {
            (None, false) => return Ok(allowed[0]),
            (None, true) => "json",
            (Some(f), json) => {
                if json && f != "json" {
                    return usage(format!("--json and --format {f} disagree: --json is short for --format json"));
                }
                f.as_str()
            }
        };
        if let Some(f) = allowed.iter().find(|f| **f == asked) {
            return Ok(f);
        }
        if Format::from_name(asked).is_some() && reads_logs {
            return usage(format!(
                "--format {asked}: --format chooses the output ({list}); to read every file as {asked}, \
                 write --input-format {asked}"
            ));
        }
        usage(format!("--format {asked}: write one of {list}"))
    }

    /// Where the output goes: the `-o` file (created or truncated), or standard output.
    pub fn writer(&self) -> anyhow::Result<Box<dyn std::io::Write>> {
        match &self.output {
            Some(p) if p.as_os_str() != "-" => match std::fs::File::create(p) {
                Ok(f) => Ok(Box::new(std::io::BufWriter::with_capacity(256 * 1024, f))),
                Err(e) => usage(format!("-o {}: {e}", p.display())),
            },
            _ => Ok(Box::new(std::io::BufWriter::with_capacity(256 * 1024, std::io::stdout().lock()))),
        }
    }

    /// True when the output is a terminal (not `-o FILE`): what `--color auto` asks.
    pub fn to_terminal(&self) -> bool {
        use std::io::IsTerminal;
        self.output.as_ref().is_none_or(|p| p.as_os_str() == "-") && std::io::stdout().is_terminal()
    }

    /// Writes a whole body to `-o FILE` or standard output.
    pub fn write(&self, body: &str) -> anyhow::Result<()> {
        write_output(self.output.as_deref().filter(|p| p.as_os_str() != "-"), body)
    }
}

/// Parses a zone argument.
pub fn parse_tz(s: &str) -> anyhow::Result<TimeZone> {
    if let Some((off, n)) = parse_offset(s) {
        if n == s.len() {
            let o = jiff::tz::Offset::from_seconds(off).map_err(|e| UsageError(format!("--tz {s}: {e}")))?;
            return Ok(TimeZone::fixed(o));
        }
    }
    TimeZone::get(s)
        .map_err(|e| UsageError(format!("--tz {s}: not a known time zone ({e}); try Asia/Seoul, UTC or +09:00")).into())
}

fn parse_offset(s: &str) -> Option<(i32, usize)> {
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h: i32 = s.get(1..3)?.parse().ok()?;
    let (m, n) = match b.get(3) {
        Some(b':') => (s.get(4..6)?.parse().ok()?, 6),
        Some(_) => (s.get(3..5)?.parse().ok()?, 5),
        None => (0, 3),
    };
    Some((sign * (h * 3600 + m * 60), n))
}

/// Parses a time argument: RFC 3339 with offset, seconds since the epoch, or a local date-time in `tz`.
pub fn parse_time_arg(what: &str, s: &str, tz: &TimeZone) -> anyhow::Result<i64> {
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs * 1_000_000_000);
    }
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Ok(ts.as_nanosecond() as i64);
    }
    let normalized = if s.len() == 10 { format!("{s}T00:00:00") } else { s.replacen(' ', "T", 1) };
    match normalized.parse::<jiff::civil::DateTime>() {
        Ok(dt) => match tz.to_ambiguous_timestamp(dt).compatible() {
            Ok(ts) => Ok(ts.as_nanosecond() as i64),
            Err(e) => usage(format!("{what} {s}: {e}")),
        },
        Err(_) => usage(format!(
            "{what} {s}: not a time; write 2025-10-13T19:51:00+09:00, '2025-10-13 19:51' or seconds since the epoch"
        )),
    }
}

impl InputArgs {
    /// The ingest options these arguments ask for.
    pub fn options(&self) -> anyhow::Result<Options> {
        let mut o = Options { format: parse_input_format(self.input_format.as_deref())?, ..Options::default() };
        if let Some(tz) = &self.tz {
            o.time.tz = Some(parse_tz(tz)?);
        }
        o.time.year = self.year;
        if let Some(bt) = &self.boot_time {
            o.time.boot_time = Some(parse_time_arg("--boot-time", bt, &self.zone()?)?);
        }
        o.time.assume_host = self.assume_host.clone();
        if let Some(now) = &self.now {
            o.now = Some(parse_time_arg("--now", now, &self.zone()?)? / 1_000_000_000);
        }
        for m in &self.json_fields {
            match m.split_once('=') {
                Some((k, v)) if !k.is_empty() && !v.is_empty() => o.json_fields.push((k.to_string(), v.to_string())),
                _ => return usage(format!("--json-field {m}: write FIELD=PATH, e.g. host=kubernetes.host")),
            }
        }
        if self.max_line < 80 {
            return usage("--max-line must be at least 80 bytes");
        }
        o.max_line = self.max_line;
        for p in &self.paths {
            if p.as_os_str() != "-" && !p.exists() {
                return usage(format!("{}: no such file or directory", p.display()));
            }
        }
        Ok(o)
    }

    /// The zone time arguments are read in: --tz, else this machine's.
    pub fn zone(&self) -> anyhow::Result<TimeZone> {
        match &self.tz {
            Some(t) => parse_tz(t),
            None => Ok(TimeZone::system()),
        }
    }
}

impl FilterArgs {
    /// The query these filters describe; times without an offset are read in `tz`.
    pub fn query(&self, tz: &TimeZone) -> anyhow::Result<Query> {
        let grep = match &self.grep {
            Some(g) => Some(regex::bytes::Regex::new(g).map_err(|e| UsageError(format!("--grep: {e}")))?),
            None => None,
        };
        Ok(Query {
            hosts: self.hosts.clone(),
            since: self.since.as_deref().map(|s| parse_time_arg("--since", s, tz)).transpose()?,
            until: self.until.as_deref().map(|s| parse_time_arg("--until", s, tz)).transpose()?,
            grep,
            sources: self.sources.clone(),
        })
    }
}

/// The language asked for with `--lang`, else the one of `LC_ALL` / `LC_MESSAGES` / `LANG`.
pub fn parse_lang(arg: Option<&str>) -> anyhow::Result<Lang> {
    match arg {
        None => Ok(Lang::from_env()),
        Some(s) => match Lang::parse(s) {
            Some(l) => Ok(l),
            None => usage(format!("--lang {s}: write en or ko")),
        },
    }
}

/// The built-in rule pack, or the built-in pack with the `--rules` directories added over it.
pub fn load_pack(dirs: &[PathBuf]) -> anyhow::Result<Pack> {
    if dirs.is_empty() {
        return Pack::builtin().map_err(|e| anyhow::anyhow!("built-in rule pack: {e}"));
    }
    for d in dirs {
        if !d.is_dir() {
            return usage(format!("--rules {}: not a directory", d.display()));
        }
    }
    let refs: Vec<&std::path::Path> = dirs.iter().map(PathBuf::as_path).collect();
    Pack::load(&refs).map_err(|e| UsageError(format!("{e}")).into())
}

/// Exit 2 with "nothing could be read" when not one file or member was read as a log: every input
/// was skipped (an empty or binary file, a stream damaged before its first line) or the inputs hold
/// no files (an empty directory). The reasons go to stderr first, up to five, unless the caller has
/// shown them already. `None` when something was read. Shared by every command that reads evidence,
/// so all of them answer an unreadable input the same way.
pub fn nothing_read(stats: &rootline_ingest::Stats, reasons_shown: bool) -> Option<std::process::ExitCode> {
    if !stats.nothing_read() {
        return None;
    }
    if !reasons_shown {
        for k in stats.skipped.iter().take(5) {
            eprintln!("rootline: skipped {}: {}", k.path, k.reason);
        }
        if stats.skipped.len() > 5 {
            eprintln!("rootline: ... and {} more skipped", stats.skipped.len() - 5);
        }
    }
    if stats.skipped.is_empty() {
        eprintln!("rootline: nothing could be read: the inputs hold no files");
    } else {
        eprintln!("rootline: nothing could be read: every input was skipped (details: rootline timeline --stats)");
    }
    Some(std::process::ExitCode::from(2))
}

/// Writes a command's output to `-o FILE`, or to standard output.
pub fn write_output(path: Option<&std::path::Path>, body: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match path {
        Some(p) => std::fs::write(p, body).map_err(|e| UsageError(format!("{}: {e}", p.display())).into()),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(body.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

/// A size option's value in bytes: a positive number with an optional K, M or G (powers of 1024);
/// anything else is a usage error naming the option `what`.
pub fn parse_size(what: &str, s: &str) -> anyhow::Result<u64> {
    let t = s.trim();
    let (num, mul) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    match num.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n.saturating_mul(mul)),
        _ => usage(format!("{what}: `{s}` is not a size (examples: 100M, 2G, 500000)")),
    }
}

/// Parses a duration argument (`90s`, `5m`, `2h`, `1d`, `500ms`, or plain seconds).
pub fn parse_duration_arg(what: &str, s: &str) -> anyhow::Result<std::time::Duration> {
    match rootline_rules::spec::parse_duration(s) {
        Some(ns) if ns > 0 => Ok(std::time::Duration::from_nanos(ns as u64)),
        _ => usage(format!("{what}: `{s}` is not a duration (examples: 500ms, 20s, 5m, 6h, 2d)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_and_times() {
        let kst = parse_tz("+09:00").unwrap();
        assert_eq!(parse_time_arg("x", "2025-10-13 19:51", &kst).unwrap(), 1_760_352_660_000_000_000);
        assert_eq!(parse_time_arg("x", "2025-10-13T10:51:00Z", &kst).unwrap(), 1_760_352_660_000_000_000);
        assert_eq!(parse_time_arg("x", "1760352660", &kst).unwrap(), 1_760_352_660_000_000_000);
        assert!(parse_time_arg("x", "yesterday", &kst).is_err());
        assert!(parse_tz("Asia/Seoul").is_ok());
        assert!(parse_tz("Mars/Olympus").is_err());
    }
}
