//! `rootline collect`: this node's evidence as one bundle for `rootline analyze`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use rootline_node::collect::{self, Options};

use super::common::parse_duration_arg;
use super::usage;

/// Gather what `rootline analyze` needs from this node into one .tar.zst: the journal (or the
/// syslog files) for a window, the kernel ring buffer, libvirt/nova/kolla logs, the outputs of
/// multipathd, dmsetup, multipath -ll, virsh, crictl and iscsiadm (each with its exit status or
/// timeout), the /proc and /sys state doctor reads, host name, zone and boot time, and a manifest.
///
/// Every command and file read runs under a hard timeout in its own process group: a log on a
/// blocked disk costs a timeout, not a hang. Size and time are bounded (--max-bytes, --deadline).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    sudo rootline collect                              ./rootline-<host>-<time>.tar.zst\n  \
    sudo rootline collect --since 6h -o /tmp/b.tar.zst\n  \
    sudo rootline collect -o - | ssh jump 'cat > node.tar.zst'\n  \
    rootline analyze node.tar.zst                      on any machine\n\n\
    The layout is documented in docs/doctor.md; rootline-manifest.json inside lists every file.")]
pub struct Args {
    /// Where to write the bundle (`-` for standard output).
    /// Default: rootline-<host>-<UTC time>.tar.zst in the current directory.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// How far back logs go.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub since: String,

    /// Most bytes of logs to keep (before compression), newest first: 512M, 2G, 100000.
    #[arg(long, value_name = "SIZE", default_value = "512M")]
    pub max_bytes: String,

    /// Time limit for each command (journalctl and log reads get more).
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub timeout: String,

    /// Time limit for the whole collection.
    #[arg(long, value_name = "DURATION", default_value = "3m")]
    pub deadline: String,

    /// Do not run diagnostic commands (logs, /proc and /sys only).
    #[arg(long)]
    pub no_commands: bool,

    /// Do not run journalctl; read /var/log files instead.
    #[arg(long)]
    pub no_journal: bool,

    /// Read var/log under this directory instead of / (for tests and chroots).
    #[arg(long, value_name = "DIR", hide = true)]
    pub log_root: Option<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let opts = Options {
        since: parse_duration_arg("--since", &a.since)?,
        max_bytes: super::common::parse_size("--max-bytes", &a.max_bytes)?,
        command_timeout: parse_duration_arg("--timeout", &a.timeout)?,
        deadline: parse_duration_arg("--deadline", &a.deadline)?,
        run_commands: !a.no_commands,
        journal: !a.no_journal,
        log_root: a.log_root.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        host_root: None,
        host: None,
    };
    let to_stdout = a.output.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if to_stdout && std::io::stdout().is_terminal() {
        return usage("-o -: standard output is a terminal; redirect it to a file or a pipe");
    }
    let tty = std::io::stderr().is_terminal();
    let mut progress = |msg: &str| {
        if tty {
            eprintln!("collect: {msg}...");
        }
    };
    let manifest = if to_stdout {
        let out = std::io::BufWriter::new(std::io::stdout().lock());
        collect::collect(out, &opts, &mut progress)?
    } else {
        let host =
            rootline_node::root::Root::Live.text("/proc/sys/kernel/hostname").unwrap_or_else(|| "unknown".into());
        let path =
            a.output.clone().unwrap_or_else(|| PathBuf::from(format!("{}.tar.zst", collect::bundle_name(&host))));
        // Written beside the target and renamed at the end: a half-written bundle never has its name.
        let partial = path.with_extension("partial");
        let file = match std::fs::File::create(&partial) {
            Ok(f) => f,
            Err(e) => return usage(format!("{}: {e}", partial.display())),
        };
        let mut out = std::io::BufWriter::new(file);
        let m = match collect::collect(&mut out, &opts, &mut progress) {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e.into());
            }
        };
        out.flush()?;
        drop(out);
        std::fs::rename(&partial, &path)?;
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "rootline collect: {} ({}, {:.1} MB compressed, {} skipped, {:.1} s; node status: {:?})",
            path.display(),
            rootline_event::count(m.files.len() as u64, "file"),
            bytes as f64 / 1e6,
            m.skipped.len(),
            m.elapsed_ms as f64 / 1000.0,
            m.doctor_status
        );
        m
    };
    for s in manifest.skipped.iter().take(20) {
        eprintln!("  skipped {}: {}", s.source, s.reason);
    }
    if manifest.skipped.len() > 20 {
        eprintln!("  ... {} more skipped (see rootline-manifest.json)", manifest.skipped.len() - 20);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        let size = |s: &str| crate::cmd::common::parse_size("--max-bytes", s);
        assert_eq!(size("512M").unwrap(), 512 << 20);
        assert_eq!(size("100000").unwrap(), 100000);
        assert!(size("lots").is_err());
        assert!(size("0").is_err());
    }
}
