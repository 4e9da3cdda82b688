//! `rootline preflight`: is this node ready for the upgrade? And `rootline preflight plan`: in what
//! order should the fleet go?

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use rootline_node::root::Root;
use rootline_preflight::{load, plan, report, Options};

use super::common::{parse_duration_arg, parse_lang, OutputArgs};
use super::usage;

/// Check this node before upgrading it: go or stop, as `nova-status upgrade check` says it.
///
/// Node state (multipath paths and maps, D-state tasks, libvirt's zombies, virsh, containers,
/// ceph, nova-status, iSCSI sessions) is read hang-safe, as doctor reads it; configuration that
/// turns a storage blip into an outage (multipath.conf, iscsid.conf, the libvirt probe, hung_task
/// sysctls, nova.conf's rbd_secret_uuid) is read with the line each finding cites. The checks are
/// YAML files (`--list` shows them; `--checks DIR` adds or replaces them).
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
#[command(after_help = "Exit status (as oslo.upgradecheck's): 0 every check passed or was skipped, 1 a warning, \
    2 a failure (stop: do not upgrade this node) or a usage error, 255 an unexpected error.\n\n\
    Examples:\n  \
    sudo rootline preflight                          check this node\n  \
    rootline preflight --json > $(hostname).json     a result for `preflight plan --results`\n  \
    rootline preflight --root bundle.tar.zst         the state captured by `rootline collect`\n  \
    rootline preflight --only 'multipath.*'          some checks only\n  \
    rootline preflight --manifest libvirt-ds.yaml    judge the libvirt pod's probe too\n  \
    rootline preflight --list                        the checks, and what each reads\n  \
    rootline preflight plan --nodes nodes.txt --results results/")]
#[command(mut_arg("format", |a| a.help("Output format: text (default: the nova-status upgrade check table) or \
    json (rootline.preflight/v1, see docs/preflight.md)")))]
pub struct Args {
    #[command(subcommand)]
    pub sub: Option<Sub>,

    /// Read a captured tree instead of the live node: a directory holding proc/, sys/, etc/,
    /// commands/ (an unpacked bundle), or a bundle archive from `rootline collect`.
    #[arg(long, value_name = "DIR|BUNDLE")]
    pub root: Option<PathBuf>,

    /// A directory of check files (*.yaml) that add checks or replace built-in ones by id
    /// (repeatable).
    #[arg(long = "checks", value_name = "DIR")]
    pub checks: Vec<PathBuf>,

    /// Run only these checks (comma-separated ids; `multipath.*` for a family).
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub only: Vec<String>,

    /// List the checks (id, title, what each reads) instead of running them.
    #[arg(long)]
    pub list: bool,

    /// A Kubernetes manifest or pod spec (YAML or JSON, e.g. `kubectl get ds libvirt -o yaml`) whose
    /// probes the checks judge, beside /etc/kubernetes/manifests (repeatable).
    #[arg(long = "manifest", value_name = "FILE")]
    pub manifests: Vec<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Time limit for each of doctor's storage commands (each check's command has its own).
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub timeout: String,

    /// Time limit for the whole run; every command's limit is shortened to fit.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub deadline: String,

    /// Do not run any external command: files, /proc and /sys only.
    #[arg(long)]
    pub no_commands: bool,

    /// Language of titles and details: en or ko (default: from LC_ALL / LC_MESSAGES / LANG).
    #[arg(long, value_name = "LANG")]
    pub lang: Option<String>,
}

#[derive(clap::Subcommand, Debug)]
pub enum Sub {
    /// Order the fleet's upgrade: canaries first, batches with gates, failed nodes held back.
    Plan(PlanArgs),
}

/// Order the fleet's upgrade from a nodes file and (optionally) each node's preflight result.
///
/// Nodes whose preflight failed are held back with the reason; the canaries are the first nodes
/// that passed; the rest go in batches in the file's order, nodes with warnings last; a gate
/// follows every batch.
#[derive(clap::Args, Debug)]
#[command(after_help = "Exit status: 0 every node is in a batch, 1 some are held back, 2 a usage or input error.\n\n\
    Example:\n  \
    for n in $(cat nodes.txt); do ssh $n sudo rootline preflight --json > results/$n.json; done\n  \
    rootline preflight plan --nodes nodes.txt --results results/ --canary 2 --batch 20")]
#[command(mut_arg("format", |a| a.help("Output format: text (default), json (rootline.preflight-plan/v1) or md \
    (for a change ticket)")))]
pub struct PlanArgs {
    /// The nodes, one host name a line (the first word of the line; `#` starts a comment), in the
    /// order to upgrade them.
    #[arg(long, value_name = "FILE", required = true)]
    pub nodes: PathBuf,

    /// How many canary nodes go first, alone in their batch.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub canary: usize,

    /// Nodes per batch after the canaries.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub batch: usize,

    /// A directory of `rootline preflight --json` results (*.json, one per node, matched by their
    /// host). Without it every node is planned and checked as its turn comes.
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if let Some(Sub::Plan(p)) = a.sub {
        return run_plan(p);
    }
    let format = a.output.format(&["text", "json"], false)?;
    let lang = parse_lang(a.lang.as_deref())?;
    let mut files = load::builtin_files();
    for d in &a.checks {
        if !d.is_dir() {
            return usage(format!("--checks {}: not a directory", d.display()));
        }
        match load::read_dir(d) {
            Ok(f) => files.extend(f),
            Err(problems) => {
                let e = load::LoadError { problems };
                return usage(e.to_string());
            }
        }
    }
    let checks = load::compile(&files).map_err(|e| super::UsageError(e.to_string()))?;
    let selected = rootline_preflight::select(&checks, &a.only).map_err(super::UsageError)?;
    if a.list {
        let shown: Vec<rootline_preflight::Check> = selected.iter().map(|c| (*c).clone()).collect();
        let body = if format == "json" {
            let mut s = String::new();
            for c in &shown {
                s.push_str(&serde_json::to_string(&report::list_entry(c, lang))?);
                s.push('\n');
            }
            s
        } else {
            report::render_list(&shown, lang)
        };
        a.output.write(&body)?;
        return Ok(ExitCode::SUCCESS);
    }
    for m in &a.manifests {
        if let Err(e) = std::fs::metadata(m) {
            return usage(format!("--manifest {}: {e}", m.display()));
        }
    }
    let opts = Options {
        command_timeout: parse_duration_arg("--timeout", &a.timeout)?,
        deadline: parse_duration_arg("--deadline", &a.deadline)?,
        run_commands: !a.no_commands,
        manifests: a.manifests.clone(),
        ..Default::default()
    };
    let (root, label) = match &a.root {
        None => (Root::Live, None),
        Some(p) => match Root::open(p) {
            Ok(r) => (r, Some(p.display().to_string())),
            Err(e) => return usage(format!("--root {}: {e}", p.display())),
        },
    };
    if !root.is_live() && ["/proc", "/sys/block", "/etc", "/commands"].iter().all(|d| root.list(d).is_empty()) {
        return usage(format!(
            "--root {}: no proc/, sys/block/, etc/ or commands/ inside; give an unpacked bundle or a bundle from `rootline collect`",
            a.root.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
        ));
    }
    // An unexpected failure inside the checks is exit 255, as oslo.upgradecheck has it, never a
    // half-printed table.
    let r =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| report::run(&selected, &root, label, &opts, lang)))
            .map_err(|p| {
                let msg =
                    p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
                anyhow::anyhow!("preflight stopped unexpectedly: {}", msg.unwrap_or_else(|| "a panic".into()))
            })?;
    let body = if format == "json" {
        let mut s = serde_json::to_string_pretty(&r)?;
        s.push('\n');
        s
    } else {
        report::render_text(&r, lang, crate::out::color(a.output.to_terminal()))
    };
    a.output.write(&body)?;
    Ok(ExitCode::from(r.exit_code()))
}

fn run_plan(a: PlanArgs) -> anyhow::Result<ExitCode> {
    let format = a.output.format(&["text", "json", "md"], false)?;
    if a.batch == 0 {
        return usage("--batch must be at least 1");
    }
    let text = match std::fs::read_to_string(&a.nodes) {
        Ok(t) => t,
        Err(e) => return usage(format!("--nodes {}: {e}", a.nodes.display())),
    };
    let nodes = plan::read_nodes(&text, &a.nodes.display().to_string()).map_err(super::UsageError)?;
    let results = match &a.results {
        None => None,
        Some(dir) => {
            let rd = match std::fs::read_dir(dir) {
                Ok(rd) => rd,
                Err(e) => return usage(format!("--results {}: {e}", dir.display())),
            };
            let mut files: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            let mut by_host: BTreeMap<String, plan::NodeResult> = BTreeMap::new();
            for f in files {
                let name = f.display().to_string();
                let text = std::fs::read_to_string(&f).map_err(|e| super::UsageError(format!("{name}: {e}")))?;
                let r = plan::NodeResult::from_json(&text, &name).map_err(super::UsageError)?;
                // Two results for one host: the later check wins.
                match by_host.get(&r.host) {
                    Some(old) if old.checked_at >= r.checked_at => {}
                    _ => {
                        by_host.insert(r.host.clone(), r);
                    }
                }
            }
            Some(by_host)
        }
    };
    let p = plan::plan(&nodes, results.as_ref(), a.canary, a.batch);
    let body = match format {
        "json" => {
            let mut s = serde_json::to_string_pretty(&p)?;
            s.push('\n');
            s
        }
        "md" => plan::render_md(&p),
        _ => plan::render_text(&p),
    };
    a.output.write(&body)?;
    Ok(ExitCode::from(p.exit_code()))
}
