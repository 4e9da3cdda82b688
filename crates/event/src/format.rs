//! Small closed vocabularies: the formats ingest knows, severities, and how a time was obtained.

use std::fmt;

/// The log or output format an event was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// RFC 3164 / RFC 5424 / rsyslog high-precision syslog files.
    Syslog,
    /// `journalctl` output (`short*`, `json`, `export`).
    Journal,
    /// Kernel ring buffer (`dmesg`, `dmesg -T`, `dmesg -x`, `/dev/kmsg`).
    Kernel,
    /// Kubernetes klog (`I1013 19:56:01.123456 1234 file.go:123] msg`).
    Klog,
    /// logfmt / logrus (`time="..." level=error msg="..."`).
    Logfmt,
    /// CRI container log files (`<RFC3339Nano> stdout|stderr F|P msg`).
    Cri,
    /// oslo.log (nova, cinder, neutron, os-brick).
    Oslo,
    /// libvirtd and qemu domain logs.
    Libvirt,
    /// Kubernetes events (`kubectl get events`, `kubectl describe` Events section).
    K8sEvents,
    /// JSON lines from log stores (OpenSearch/Elasticsearch exports, Fluent Bit/Fluentd records).
    JsonLines,
    /// A diagnostic command's output, read as a state snapshot taken at one time.
    Snapshot,
    /// A log of commands with their outputs, each stamped (`=== 2026-11-28 22:38:45 [22.64] # cmd`).
    CommandLog,
    /// A terminal session: prompts, the commands typed and their outputs (copy-paste or `script(1)`).
    Terminal,
    /// Any other text; lines with an ISO 8601 / RFC 3339 stamp are timed, the rest follow the previous.
    Generic,
    /// Each line is a bare message with no header (`--input-format plain`).
    Plain,
}

impl Format {
    /// Every format, in detection priority order (more specific first).
    pub const ALL: [Format; 15] = [
        Format::Journal,
        Format::Cri,
        Format::Klog,
        Format::Oslo,
        Format::Libvirt,
        Format::Logfmt,
        Format::K8sEvents,
        Format::JsonLines,
        Format::CommandLog,
        Format::Terminal,
        Format::Snapshot,
        Format::Kernel,
        Format::Syslog,
        Format::Generic,
        Format::Plain,
    ];

    /// The stable name used on the command line (`--format`) and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Syslog => "syslog",
            Format::Journal => "journal",
            Format::Kernel => "kernel",
            Format::Klog => "klog",
            Format::Logfmt => "logfmt",
            Format::Cri => "cri",
            Format::Oslo => "oslo",
            Format::Libvirt => "libvirt",
            Format::K8sEvents => "k8s-events",
            Format::JsonLines => "jsonlines",
            Format::Snapshot => "snapshot",
            Format::CommandLog => "command-log",
            Format::Terminal => "terminal",
            Format::Generic => "generic",
            Format::Plain => "plain",
        }
    }

    /// Parses a name produced by [`Format::as_str`].
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Severity on the syslog scale (RFC 5424 numeric levels: emerg = 0 ... debug = 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// 0: system is unusable.
    Emerg = 0,
    /// 1: action must be taken immediately.
    Alert = 1,
    /// 2: critical conditions.
    Crit = 2,
    /// 3: error conditions.
    Err = 3,
    /// 4: warning conditions.
    Warning = 4,
    /// 5: normal but significant.
    Notice = 5,
    /// 6: informational.
    Info = 6,
    /// 7: debug-level messages.
    Debug = 7,
}

impl Severity {
    /// From a syslog numeric level (the low 3 bits of a PRI value).
    pub fn from_level(n: u8) -> Severity {
        match n & 7 {
            0 => Severity::Emerg,
            1 => Severity::Alert,
            2 => Severity::Crit,
            3 => Severity::Err,
            4 => Severity::Warning,
            5 => Severity::Notice,
            6 => Severity::Info,
            _ => Severity::Debug,
        }
    }

    /// From the words formats use: `err`, `ERROR`, `warn`, `W` (klog), `fatal`, `TRACE`, ...
    pub fn from_word(w: &str) -> Option<Severity> {
        let w = w.trim();
        let s = match w.len() {
            1 => match w.as_bytes()[0].to_ascii_uppercase() {
                b'F' => Severity::Crit,
                b'E' => Severity::Err,
                b'W' => Severity::Warning,
                b'N' => Severity::Notice,
                b'I' => Severity::Info,
                b'D' | b'T' => Severity::Debug,
                _ => return None,
            },
            _ => match w.to_ascii_lowercase().as_str() {
                "emerg" | "emergency" | "panic" => Severity::Emerg,
                "alert" => Severity::Alert,
                "crit" | "critical" | "fatal" => Severity::Crit,
                "err" | "error" => Severity::Err,
                "warn" | "warning" => Severity::Warning,
                "notice" | "audit" => Severity::Notice,
                "info" | "information" | "informational" | "normal" => Severity::Info,
                "debug" | "trace" => Severity::Debug,
                _ => return None,
            },
        };
        Some(s)
    }

    /// The short syslog name (`err`, `warning`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Emerg => "emerg",
            Severity::Alert => "alert",
            Severity::Crit => "crit",
            Severity::Err => "err",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
            Severity::Info => "info",
            Severity::Debug => "debug",
        }
    }
}

/// How an event's time was obtained, so a reader knows how far to trust it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeKind {
    /// The line stated a full date and time with an explicit UTC offset.
    Exact,
    /// The line stated a full local date and time; the zone came from `--tz`, the bundle or the machine.
    Zoned,
    /// The line had no year; it was inferred (file time, other sources of the host, `--year`).
    YearInferred,
    /// Seconds since boot, anchored to wall time through a known boot time.
    Anchored,
    /// Seconds since boot with no anchor: the time shown is relative to boot, order within the file kept.
    Relative,
    /// The time of the snapshot a command output was taken at (file or archive member time, or a stamp).
    Snapshot,
    /// Measured back from a reference by a rounded age (`kubectl`'s `5m`, `2d3h`): right to the age's
    /// unit at best, and only as good as the reference (`--now`, else the file's time).
    Approximate,
    /// No usable time: the event keeps its place after the nearest earlier event of its source.
    None,
}

impl TimeKind {
    /// The stable name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeKind::Exact => "exact",
            TimeKind::Zoned => "zoned",
            TimeKind::YearInferred => "year-inferred",
            TimeKind::Anchored => "anchored",
            TimeKind::Relative => "relative",
            TimeKind::Snapshot => "snapshot",
            TimeKind::Approximate => "approximate",
            TimeKind::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_roundtrip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.as_str()), Some(f));
        }
        assert_eq!(Format::from_name("nope"), None);
    }

    #[test]
    fn severity_words() {
        assert_eq!(Severity::from_word("ERROR"), Some(Severity::Err));
        assert_eq!(Severity::from_word("W"), Some(Severity::Warning));
        assert_eq!(Severity::from_word("warn"), Some(Severity::Warning));
        assert_eq!(Severity::from_word("bogus"), None);
        assert_eq!(Severity::from_level(3 + 8 * 4), Severity::Err);
    }
}
