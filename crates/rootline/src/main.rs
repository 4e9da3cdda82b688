//! The `rootline` command: parses arguments, wires the stages, maps errors to exit codes.
//!
//! Each subcommand lives in `cmd/<name>.rs`; shared reading options in `cmd/common.rs`.

mod cmd;
mod out;

/// mimalloc: rootline allocates and frees millions of small event buffers across threads, where
/// it is markedly faster than the system allocator (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// rootline: finds out why a compute node broke.
///
/// It reads the evidence of an incident (kernel, multipathd, kubelet, containerd, libvirt, nova logs,
/// command outputs, sosreport and must-gather archives), builds one correct timeline, and points at
/// the log lines that prove each step.
#[derive(Parser, Debug)]
#[command(
    name = "rootline",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 success, 1 problems found, 2 failure found / usage or input error, \
                  255 unexpected error. A closed pipe (rootline ... | head) exits 0.\n\n\
                  Start with:  rootline timeline examples/incidents/seed-37 | less -R"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colour text output: auto (when writing to a terminal and NO_COLOR is unset), always, never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = out::ColorChoice::Auto, global = true)]
    color: out::ColorChoice,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Merge every input into one timeline, each line pointing back at its file and line.
    Timeline(cmd::timeline::Args),
    /// Mine message templates: counts, first and last seen, an example and the hosts of each.
    Templates(cmd::templates::Args),
    /// The failure-signature pack: list, show, test, lint, docs, or scan inputs with it.
    Rules(cmd::rules::Args),
    /// Why the node broke: the evidence-linked causal chain, the root cause and its alternatives.
    Analyze(cmd::analyze::Args),
    /// Render a saved analysis (analyze --format json) as a Markdown or self-contained HTML postmortem.
    Report(cmd::report::Args),
    /// Compare nodes in the same window: what only the failing node showed, nodes ranked by how unusual.
    Fleet(cmd::fleet::Args),
    /// Check this node, hang-safe: maps with no active path, D-state tasks, zombies, hung daemons.
    Doctor(cmd::doctor::Args),
    /// Gather this node's evidence (logs, kernel buffer, command outputs, /proc,/sys) into one bundle.
    Collect(cmd::collect::Args),
    /// Before an upgrade: check this node (go or stop, as nova-status upgrade check), or plan the fleet.
    Preflight(cmd::preflight::Args),
    /// Run doctor's checks every interval: Prometheus metrics, this node's summary for the fleet.
    Agent(cmd::agent::Args),
    /// The case database: remember incidents, find similar past cases and what fixed them, the manual.
    Cases(cmd::cases::Args),
}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    let cli = Cli::parse();
    out::set_color(cli.color);
    let result = match cli.command {
        Command::Timeline(a) => cmd::timeline::run(a),
        Command::Templates(a) => cmd::templates::run(a),
        Command::Rules(a) => cmd::rules::run(a),
        Command::Analyze(a) => cmd::analyze::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Fleet(a) => cmd::fleet::run(a),
        Command::Doctor(a) => cmd::doctor::run(a),
        Command::Collect(a) => cmd::collect::run(a),
        Command::Preflight(a) => cmd::preflight::run(a),
        Command::Agent(a) => cmd::agent::run(a),
        Command::Cases(a) => cmd::cases::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if out::is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let code = match e.downcast_ref::<cmd::UsageError>() {
                Some(_) => 2,
                None => 255,
            };
            eprintln!("rootline: error: {e:#}");
            ExitCode::from(code)
        }
    }
}

/// Turns transparent huge pages off for this process (what mimalloc's `MIMALLOC_ALLOW_THP=0` does,
/// from the first allocation on instead of from its start-up).
///
/// mimalloc asks for huge pages on its arenas, so the first touch of any byte of a 2 MiB region makes
/// the kernel zero all of it: reading spreads chunk buffers, parser scratch and summary arrays over
/// many such regions, and `clear_page_erms` was 20-30% of a `timeline` profile with peak memory 50%
/// above what was used (see docs/benchmarks.md, Ingest). With 4 KiB pages only what is used is
/// zeroed. Linux only; elsewhere, and on kernels without the flag, nothing changes.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) sets one flag of this process (inherited by
        // the commands it starts); it takes no pointers, and its failure (an old kernel) leaves the
        // process as it was.
        let _ = unsafe {
            libc::prctl(
                libc::PR_SET_THP_DISABLE,
                1 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            )
        };
    }
}
