//! `rootline doctor`: hang-safe live checks of this node (or of a captured tree with `--root`).

use std::path::PathBuf;
use std::process::ExitCode;

use rootline_node::doctor::{self, Options};
use rootline_node::root::Root;

use super::common::{parse_duration_arg, OutputArgs};
use super::usage;

/// Check this node for the failure's precursors: multipath maps with no active path, failed paths,
/// tasks in D state, zombies and their parents, daemons that do not answer.
///
/// Reads /proc and /sys directly and never opens a block device; `multipathd`, `dmsetup`,
/// `multipath -ll`, `virsh list` and `crictl ps` run each under a hard timeout in their own process
/// group and are killed on expiry (a command that timed out is itself a finding). Next steps are
/// printed as commands, never run.
///
/// Exit status: 0 healthy, 1 warnings, 2 failures.
#[derive(clap::Args, Debug)]
#[command(after_help = "Reads /proc and /sys directly and never opens a block device. multipathd, dmsetup, multipath \
    -ll, virsh list and crictl ps run each under --timeout in their own process group and are killed \
    on expiry; a command that timed out is itself a finding. Next steps are printed, never run.\n\n\
    Exit status: 0 healthy, 1 warnings, 2 failures (or a usage error).\n\n\
    Examples:\n  \
    sudo rootline doctor                     check this node (root reads kernel stacks)\n  \
    rootline doctor --json | jq .findings    machine-readable\n  \
    rootline doctor --root bundle.tar.zst    re-check the state captured by `rootline collect`\n  \
    rootline doctor --root DIR               a captured tree: DIR/proc/..., DIR/sys/...")]
#[command(mut_arg("format", |a| a.help("Output format: text (default) or json (schema rootline.doctor/v1, see \
    docs/doctor.md)")))]
pub struct Args {
    /// Read a captured tree instead of the live system: a directory holding proc/ and sys/ (an
    /// unpacked bundle), or a bundle archive from `rootline collect`.
    #[arg(long, value_name = "DIR|BUNDLE")]
    pub root: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Time limit for each external command; it is killed with its process group on expiry.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub timeout: String,

    /// Time limit for the whole check; command time limits are shortened to fit.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub deadline: String,

    /// Do not run any external command: /proc and /sys only.
    #[arg(long)]
    pub no_commands: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let json = a.output.format(&["text", "json"], false)? == "json";
    let opts = Options {
        command_timeout: parse_duration_arg("--timeout", &a.timeout)?,
        deadline: parse_duration_arg("--deadline", &a.deadline)?,
        run_commands: !a.no_commands,
        ..Default::default()
    };
    let (root, label) = match &a.root {
        None => (Root::Live, None),
        Some(p) => match Root::open(p) {
            Ok(r) => (r, Some(p.display().to_string())),
            Err(e) => return usage(format!("--root {}: {e}", p.display())),
        },
    };
    if !root.is_live() && root.list("/proc").is_empty() && root.list("/sys/block").is_empty() {
        return usage(format!(
            "--root {}: no proc/ or sys/block/ inside; give an unpacked bundle or a bundle from `rootline collect`",
            a.root.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
        ));
    }
    let report = doctor::check(&root, label, &opts);
    let body = if json {
        let mut s = serde_json::to_string_pretty(&report)?;
        s.push('\n');
        s
    } else {
        doctor::render_text(&report)
    };
    a.output.write(&body)?;
    Ok(ExitCode::from(report.exit_code()))
}
