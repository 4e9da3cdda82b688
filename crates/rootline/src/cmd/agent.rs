//! `rootline agent`: doctor's checks every interval, served as Prometheus metrics and the node's
//! summary; see `rootline_agent` and docs/agent.md.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use rootline_agent::{bundles, summary, Agent, Config, Source};
use rootline_node::doctor;

use super::common::parse_duration_arg;
use super::usage;

/// Run doctor's checks every interval and serve them: /metrics (Prometheus), /summary (this node's
/// summary for `rootline fleet --agents`), /healthz.
///
/// Each cycle runs doctor's hang-safe checks under their deadlines; a cycle never overlaps the
/// previous one, and a check that times out is counted and the next cycle still runs. Read-only:
/// nothing on the node is changed; only the --textfile and --bundle-dir directories are written.
#[derive(clap::Args, Debug)]
#[command(after_help = "Listens on 127.0.0.1:9469 by default. Another address needs --token-file (clients send \
    Authorization: Bearer TOKEN; /healthz needs none) unless --insecure is given.\n\n\
    Examples:\n  \
    sudo rootline agent                            serve http://127.0.0.1:9469/metrics\n  \
    rootline agent --root node.tar.zst --once      the metrics of a captured bundle, on stdout\n  \
    sudo rootline agent --once --textfile /var/lib/node_exporter/textfile\n  \
    \x20                                              one cycle for node_exporter (from cron)\n  \
    sudo rootline agent --listen 0.0.0.0:9469 --token-file /etc/rootline/token \\\n  \
    \x20   --bundle-dir /var/lib/rootline/bundles     for Prometheus elsewhere; bundles on new failures\n\n\
    Metrics, alerts and the DaemonSet: docs/agent.md.")]
pub struct Args {
    /// Check a captured tree instead of this node: a directory holding proc/ and sys/ (an unpacked
    /// bundle), or a bundle archive from `rootline collect`.
    #[arg(long, value_name = "DIR|BUNDLE", conflicts_with = "host_root")]
    pub root: Option<PathBuf>,

    /// This node's /proc and /sys are mounted under DIR (DIR/proc, DIR/sys), as in a container;
    /// read live, with the same guards.
    #[arg(long, value_name = "DIR")]
    pub host_root: Option<PathBuf>,

    /// The node's name (default: the system's host name; a container sees its pod's).
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,

    /// Time from the start of one cycle to the start of the next.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub interval: String,

    /// Address to serve on. Anything but loopback needs --token-file or --insecure.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9469")]
    pub listen: String,

    /// A file holding the bearer token clients must send (Authorization: Bearer TOKEN).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Serve on a non-loopback address without a token.
    #[arg(long)]
    pub insecure: bool,

    /// Also write the metrics to DIR/rootline.prom for node_exporter's textfile collector
    /// (replaced atomically every cycle).
    #[arg(long, value_name = "DIR")]
    pub textfile: Option<PathBuf>,

    /// Run one cycle, write --textfile (or print the metrics when there is none), and exit 0.
    #[arg(long)]
    pub once: bool,

    /// Time limit for each external command; it is killed with its process group on expiry.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub timeout: String,

    /// Time limit for a cycle's checks; command time limits are shortened to fit.
    #[arg(long, value_name = "DURATION", default_value = "20s")]
    pub deadline: String,

    /// Do not run any external command: /proc and /sys only.
    #[arg(long)]
    pub no_commands: bool,

    /// On a new failure, write an evidence bundle (`rootline collect`'s) into DIR. Not with --once:
    /// one cycle cannot tell a new failure from one that was already there.
    #[arg(long, value_name = "DIR", conflicts_with = "once")]
    pub bundle_dir: Option<PathBuf>,

    /// Most bundles kept in --bundle-dir (the oldest are removed).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub bundle_keep: usize,

    /// Most bytes of bundles kept in --bundle-dir: 512M, 2G.
    #[arg(long, value_name = "SIZE", default_value = "1G")]
    pub bundle_max_bytes: String,

    /// Least time between two bundles.
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub bundle_min_gap: String,

    /// Log files or directories /summary is made from, besides the journal (repeatable; missing
    /// ones are skipped). With --root, the captured tree itself is read unless --logs is given.
    #[arg(long = "logs", value_name = "PATH")]
    pub logs: Vec<PathBuf>,

    /// Read the journal files in DIR (journalctl --directory), e.g. the host's /var/log/journal
    /// mounted in a container.
    #[arg(long, value_name = "DIR", conflicts_with = "no_journal")]
    pub journal_dir: Option<PathBuf>,

    /// Do not read the journal for /summary.
    #[arg(long)]
    pub no_journal: bool,

    /// How far back the journal is read for /summary.
    #[arg(long, value_name = "DURATION", default_value = "6h")]
    pub summary_since: String,

    /// How often /summary's logs are read again.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub summary_every: String,

    /// Newest bytes read of each log for /summary.
    #[arg(long, value_name = "SIZE", default_value = "64M")]
    pub summary_max_bytes: String,

    /// Serve no /summary (and read no logs).
    #[arg(long)]
    pub no_summary: bool,

    /// Also set node conditions (StaleMultipathMap, TaskHung, LibvirtUnresponsive) and Events on
    /// this node through the Kubernetes API at --kube-api (docs/agent.md).
    #[arg(long)]
    pub node_conditions: bool,

    /// The Kubernetes API for --node-conditions, plain HTTP on loopback (a `kubectl proxy` beside
    /// the agent, which authenticates with the pod's service account).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8001")]
    pub kube_api: String,
}

/// The address to listen on, and whether it is loopback only.
fn listen_addr(s: &str) -> anyhow::Result<(Vec<SocketAddr>, bool)> {
    let addrs: Vec<SocketAddr> = match s.to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => return usage(format!("--listen {s}: {e}; write ADDRESS:PORT, e.g. 127.0.0.1:9469")),
    };
    if addrs.is_empty() {
        return usage(format!("--listen {s}: no address"));
    }
    let loopback = addrs.iter().all(|a| a.ip().is_loopback());
    Ok((addrs, loopback))
}

fn read_token(p: &PathBuf) -> anyhow::Result<String> {
    let t = match std::fs::read_to_string(p) {
        Ok(t) => t.trim().to_string(),
        Err(e) => return usage(format!("--token-file {}: {e}", p.display())),
    };
    if t.len() < 16 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return usage(format!(
            "--token-file {}: the token must be one word of at least 16 characters (e.g. `head -c 32 /dev/urandom | base64`)",
            p.display()
        ));
    }
    Ok(t)
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let interval = parse_duration_arg("--interval", &a.interval)?;
    if interval < Duration::from_secs(1) {
        return usage("--interval must be at least 1s");
    }
    let opts = doctor::Options {
        command_timeout: parse_duration_arg("--timeout", &a.timeout)?,
        deadline: parse_duration_arg("--deadline", &a.deadline)?,
        run_commands: !a.no_commands,
        ..Default::default()
    };
    let source = match (&a.root, &a.host_root) {
        (Some(r), _) => Source::Captured(r.clone()),
        (None, Some(h)) => Source::Host(h.clone()),
        (None, None) => Source::Live,
    };
    let live = !matches!(source, Source::Captured(_));
    let bundles = match &a.bundle_dir {
        None => None,
        Some(d) => Some(bundles::Config {
            dir: d.clone(),
            keep: a.bundle_keep.max(1),
            max_bytes: super::common::parse_size("--bundle-max-bytes", &a.bundle_max_bytes)?,
            min_gap: parse_duration_arg("--bundle-min-gap", &a.bundle_min_gap)?,
            collect: live.then(|| rootline_node::collect::Options {
                since: Duration::from_secs(6 * 3600),
                max_bytes: 256 << 20,
                deadline: Duration::from_secs(120),
                run_commands: !a.no_commands,
                host_root: a.host_root.clone(),
                host: a.hostname.clone(),
                ..Default::default()
            }),
        }),
    };
    // One cycle serves no /summary: no logs are read.
    let summary = if a.no_summary || a.once {
        None
    } else {
        let logs = match (&a.root, a.logs.is_empty()) {
            (Some(r), true) => summary::Logs::Captured(r.clone()),
            (Some(_), false) => summary::Logs::Live { journal: None, files: a.logs.clone() },
            (None, _) => {
                summary::Logs::Live { journal: (!a.no_journal).then(|| a.journal_dir.clone()), files: a.logs.clone() }
            }
        };
        for p in a.logs.iter().filter(|p| !p.exists()) {
            eprintln!("rootline agent: --logs {}: not found (skipped while it is missing)", p.display());
        }
        Some(summary::Config {
            logs,
            since: parse_duration_arg("--summary-since", &a.summary_since)?,
            max_bytes: super::common::parse_size("--summary-max-bytes", &a.summary_max_bytes)?,
            timeout: opts.command_timeout.max(Duration::from_secs(10)),
        })
    };
    let conditions = if a.node_conditions {
        match rootline_agent::conditions::Api::new(&a.kube_api) {
            Ok(api) => Some(api),
            Err(e) => return usage(format!("--kube-api {}: {e}", a.kube_api)),
        }
    } else {
        None
    };
    let summary_every = parse_duration_arg("--summary-every", &a.summary_every)?;
    let cfg = Config {
        source,
        interval,
        doctor: opts,
        grace: rootline_agent::agent::GRACE,
        host: a.hostname.clone(),
        textfile: a.textfile.clone(),
        bundles,
        summary,
        summary_interval: summary_every,
        summary_timeout: summary_every.max(Duration::from_secs(60)),
        conditions,
    };
    if let Some(d) = &cfg.textfile {
        if !d.is_dir() {
            return usage(format!("--textfile {}: not a directory", d.display()));
        }
    }
    // Check the address and the token before the first cycle: a mistake is reported at once.
    let server = if a.once {
        None
    } else {
        let (addrs, loopback) = listen_addr(&a.listen)?;
        let token = match &a.token_file {
            Some(p) => Some(read_token(p)?),
            None if loopback || a.insecure => None,
            None => {
                return usage(format!(
                    "--listen {}: not a loopback address; give --token-file FILE (clients send Authorization: Bearer TOKEN), or --insecure to serve without one",
                    a.listen
                ))
            }
        };
        let listener = match TcpListener::bind(&addrs[..]) {
            Ok(l) => l,
            Err(e) => return usage(format!("--listen {}: {e}", a.listen)),
        };
        Some((listener, token))
    };
    let agent = match Agent::new(cfg) {
        Ok(a) => Arc::new(a),
        Err(e) => return usage(if a.root.is_some() { format!("--root {e}") } else { e }),
    };
    if a.once {
        agent.cycle();
        if a.textfile.is_none() {
            super::common::write_output(None, &agent.exposition())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (listener, token) = server.expect("a server unless --once");
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| a.listen.clone());
    eprintln!(
        "rootline agent: serving http://{addr}/metrics, /summary, /healthz{}; a cycle every {}",
        if token.is_some() { " (bearer token required)" } else { "" },
        a.interval
    );
    let handler: Arc<dyn rootline_agent::http::Handler> = agent.clone();
    std::thread::Builder::new().name("http".into()).spawn(move || {
        rootline_agent::http::serve(listener, handler, rootline_agent::http::Options { token, ..Default::default() })
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    agent.run(&stop);
    Ok(ExitCode::SUCCESS)
}
