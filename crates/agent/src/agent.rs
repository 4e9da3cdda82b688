//! The agent's loop: doctor's checks every interval, one cycle at a time, each under a watchdog;
//! the state the endpoints read; the summary refreshed on its own thread.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rootline_fleet::window::Window;
use rootline_node::doctor::{self, Report};
use rootline_node::root::Root;
use rootline_rules::Engine;

use crate::bundles::{self, Bundler, Decision};
use crate::conditions::{self, Conditions};
use crate::http::{Handler, Request, Response};
use crate::metrics::{self, Stats};
use crate::summary;

/// How long past doctor's own deadline a cycle's checks may run before the cycle gives up on them
/// (the default of [`Config::grace`]).
pub const GRACE: Duration = Duration::from_secs(5);

/// What the agent checks.
#[derive(Debug, Clone)]
pub enum Source {
    /// This node.
    Live,
    /// This node, through a directory holding its /proc and /sys (a container's `/host`).
    Host(PathBuf),
    /// A captured tree or bundle (`--root`).
    Captured(PathBuf),
}

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub source: Source,
    /// From the start of one cycle to the start of the next (a longer cycle delays the next one).
    pub interval: Duration,
    pub doctor: doctor::Options,
    /// How long past `doctor.deadline` the watchdog waits for a cycle's checks.
    pub grace: Duration,
    /// The node's name when the system's is not the one wanted (a container sees its pod's).
    pub host: Option<String>,
    /// node_exporter textfile directory.
    pub textfile: Option<PathBuf>,
    pub bundles: Option<bundles::Config>,
    /// `None`: no `/summary`.
    pub summary: Option<summary::Config>,
    pub summary_interval: Duration,
    /// A summary refresh running longer than this is counted as a timeout (once).
    pub summary_timeout: Duration,
    /// Node conditions and Events through this API (`--node-conditions`).
    pub conditions: Option<conditions::Api>,
}

/// What the endpoints read, updated by each cycle.
pub struct State {
    pub report: Option<Arc<Report>>,
    pub stats: Stats,
    pub host: String,
    pub summary: Option<Arc<summary::Summary>>,
    /// When the running summary refresh started.
    pub summary_started: Option<Instant>,
    summary_timeout_counted: bool,
    /// When the last cycle finished (monotonic), for `/healthz`.
    pub last_cycle: Option<Instant>,
    /// Messages for the operator (textfile or bundle errors), newest last, at most 20.
    pub notes: Vec<String>,
}

/// What a cycle runs: doctor's checks (replaceable, to test the watchdog with a check that hangs).
pub type CheckFn = dyn Fn(&Root, Option<String>, &doctor::Options) -> Report + Send + Sync;

/// The agent.
pub struct Agent {
    check: Arc<CheckFn>,
    cfg: Config,
    root: Arc<Root>,
    label: Option<String>,
    state: Arc<Mutex<State>>,
    pending: Mutex<Option<Receiver<Report>>>,
    bundler: Mutex<Option<Bundler>>,
    conditions: Mutex<Option<Conditions>>,
    /// The rule pack's engine, for the summary (none without one).
    engine: Option<Engine>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_unix() -> f64 {
    jiff::Timestamp::now().as_millisecond() as f64 / 1000.0
}

impl Agent {
    /// Opens what the agent checks; an error says why in the operator's words.
    pub fn new(cfg: Config) -> Result<Agent, String> {
        let (root, label) = match &cfg.source {
            Source::Live => (Root::Live, None),
            Source::Host(d) => {
                if !d.join("proc").is_dir() {
                    return Err(format!("{}: no proc/ inside; mount the host's /proc at {0}/proc", d.display()));
                }
                (Root::Host(d.clone()), None)
            }
            Source::Captured(p) => {
                let r = Root::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
                if r.list("/proc").is_empty() && r.list("/sys/block").is_empty() {
                    return Err(format!(
                        "{}: no proc/ or sys/block/ inside; give an unpacked bundle or a bundle from `rootline collect`",
                        p.display()
                    ));
                }
                (r, Some(p.display().to_string()))
            }
        };
        let host = cfg
            .host
            .clone()
            .or_else(|| root.text("/proc/sys/kernel/hostname"))
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".into());
        let engine = match cfg.summary {
            Some(_) => {
                let pack = rootline_rules::Pack::builtin().map_err(|e| format!("built-in rule pack: {e}"))?;
                Some(Engine::new(pack))
            }
            None => None,
        };
        if let Some(b) = &cfg.bundles {
            for p in bundles::remove_partials(&b.dir) {
                eprintln!("rootline agent: removed {}, a bundle left incomplete by an earlier run", p.display());
            }
        }
        let bundler = cfg.bundles.clone().map(Bundler::new);
        let conditions = cfg.conditions.clone().map(|api| Conditions::new(api, &host));
        Ok(Agent {
            check: Arc::new(doctor::check),
            root: Arc::new(root),
            label,
            state: Arc::new(Mutex::new(State {
                report: None,
                stats: Stats::default(),
                host,
                summary: None,
                summary_started: None,
                summary_timeout_counted: false,
                last_cycle: None,
                notes: Vec::new(),
            })),
            pending: Mutex::new(None),
            bundler: Mutex::new(bundler),
            conditions: Mutex::new(conditions),
            engine,
            cfg,
        })
    }

    /// Runs `check` instead of doctor's checks.
    pub fn with_check(mut self, check: Arc<CheckFn>) -> Agent {
        self.check = check;
        self
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The exposition of the last cycle.
    pub fn exposition(&self) -> String {
        let s = self.state();
        metrics::render(s.report.as_deref(), &s.stats, &s.host)
    }

    fn note(&self, msg: String) {
        eprintln!("rootline agent: {msg}");
        let mut s = self.state();
        s.notes.push(msg);
        if s.notes.len() > 20 {
            s.notes.remove(0);
        }
    }

    /// One cycle: doctor's checks under a watchdog, then the metrics, the textfile and bundles.
    /// Never longer than doctor's deadline plus [`GRACE`]; when the previous cycle's checks have
    /// still not returned, no new checks start (cycles never overlap) and the cycle is skipped.
    pub fn cycle(&self) {
        {
            let mut pending = lock(&self.pending);
            if let Some(rx) = pending.as_ref() {
                match rx.try_recv() {
                    Err(TryRecvError::Empty) => {
                        let mut s = self.state();
                        s.stats.cycles_skipped += 1;
                        s.stats.timeout(metrics::CHECK_DOCTOR);
                        return;
                    }
                    // The late report is dropped: its state is older than this cycle.
                    _ => *pending = None,
                }
            }
        }
        let started = Instant::now();
        let (tx, rx) = mpsc::channel();
        let (root, label, opts) = (self.root.clone(), self.label.clone(), self.cfg.doctor.clone());
        let check = self.check.clone();
        let spawned = std::thread::Builder::new().name("doctor".into()).spawn(move || {
            let _ = tx.send(check(&root, label, &opts));
        });
        if let Err(e) = spawned {
            self.note(format!("could not start the checks: {e}"));
            return;
        }
        let report = match rx.recv_timeout(self.cfg.doctor.deadline + self.cfg.grace) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => {
                self.state().stats.timeout(metrics::CHECK_DOCTOR);
                *lock(&self.pending) = Some(rx);
                self.note(format!(
                    "the checks did not return within {:.0} s; the next cycle starts only once they have",
                    (self.cfg.doctor.deadline + self.cfg.grace).as_secs_f64()
                ));
                return;
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.note("the checks stopped without a report".into());
                return;
            }
        };
        self.apply(report, started.elapsed());
    }

    fn apply(&self, mut report: Report, took: Duration) {
        let host = self.state().host.clone();
        report.host = host.clone();
        let report = Arc::new(report);
        let text = {
            let mut s = self.state();
            s.stats.record(&report, took.as_secs_f64(), now_unix());
            s.report = Some(report.clone());
            s.last_cycle = Some(Instant::now());
            if let Some(t) = s.summary_started {
                if t.elapsed() > self.cfg.summary_timeout && !s.summary_timeout_counted {
                    s.summary_timeout_counted = true;
                    s.stats.timeout(metrics::CHECK_SUMMARY);
                }
            }
            metrics::render(Some(&report), &s.stats, &s.host)
        };
        if let Some(dir) = &self.cfg.textfile {
            if let Err(e) = crate::textfile::write(dir, &text) {
                self.note(format!("textfile {}: {e}", dir.display()));
            }
        }
        let errors = match lock(&self.conditions).as_mut() {
            Some(c) => {
                let wall = jiff::Timestamp::now();
                c.update(&report, Instant::now(), &wall.round(jiff::Unit::Second).unwrap_or(wall).to_string())
            }
            None => Vec::new(),
        };
        for e in errors {
            self.note(e);
        }
        let mut bundler = lock(&self.bundler);
        if let Some(b) = bundler.as_mut() {
            let state = self.state.clone();
            let decision = b.observe(&report, &host, Instant::now(), move |res| {
                let mut s = lock(&state);
                match res {
                    Ok(p) => {
                        s.stats.bundles_written += 1;
                        eprintln!("rootline agent: bundle written: {}", p.display());
                    }
                    Err(e) => {
                        s.stats.bundle_errors += 1;
                        eprintln!("rootline agent: bundle not written: {e}");
                        s.notes.push(format!("bundle not written: {e}"));
                    }
                }
            });
            if let Decision::Held(new) = decision {
                drop(bundler);
                self.note(format!(
                    "new failures, no bundle (one was written recently or is being written): {}",
                    new.join(", ")
                ));
            }
        }
    }

    /// Refreshes the summary now (on the calling thread).
    pub fn refresh_summary(&self) {
        let (Some(cfg), Some(engine)) = (&self.cfg.summary, &self.engine) else { return };
        let host = {
            let mut s = self.state();
            s.summary_started = Some(Instant::now());
            s.summary_timeout_counted = false;
            s.host.clone()
        };
        let started = Instant::now();
        let sum = summary::compute(cfg, engine, &host);
        let mut s = self.state();
        s.stats.durations.insert(metrics::CHECK_SUMMARY.into(), started.elapsed().as_secs_f64());
        s.summary = Some(Arc::new(sum));
        s.summary_started = None;
    }

    /// Runs cycles every interval until `stop` is set; the summary refreshes on its own thread.
    pub fn run(self: &Arc<Self>, stop: &Arc<AtomicBool>) {
        if self.cfg.summary.is_some() {
            let (me, stop2) = (self.clone(), stop.clone());
            let _ = std::thread::Builder::new().name("summary".into()).spawn(move || {
                while !stop2.load(Ordering::SeqCst) {
                    let t0 = Instant::now();
                    me.refresh_summary();
                    sleep_until(t0 + me.cfg.summary_interval, &stop2);
                }
            });
        }
        while !stop.load(Ordering::SeqCst) {
            let t0 = Instant::now();
            self.cycle();
            sleep_until(t0 + self.cfg.interval, stop);
        }
    }
}

fn sleep_until(t: Instant, stop: &AtomicBool) {
    loop {
        let now = Instant::now();
        if now >= t || stop.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep((t - now).min(Duration::from_millis(100)));
    }
}

/// Parses a `since`/`until` query value: seconds since the epoch, or RFC 3339.
fn query_time(v: &str) -> Result<i64, String> {
    if let Ok(s) = v.parse::<i64>() {
        return Ok(s.saturating_mul(1_000_000_000));
    }
    rootline_fleet::window::parse(v)
        .map(|t| t.unix_nanos)
        .ok_or_else(|| format!("`{v}` is not a time: give seconds since the epoch or RFC 3339 (2025-10-13T10:51:00Z)"))
}

/// Parses a `last` query value (`1h`, `30m`).
fn query_last(v: &str) -> Result<i64, String> {
    rootline_rules::spec::parse_duration(v)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{v}` is not a duration (examples: 30m, 6h)"))
}

impl Agent {
    fn summary_response(&self, req: &Request) -> Response {
        if self.cfg.summary.is_none() {
            return Response::text(404, "this agent was started with --no-summary");
        }
        let (sum, host) = {
            let s = self.state();
            (s.summary.clone(), s.host.clone())
        };
        let Some(sum) = sum else {
            return Response::text(503, "the first summary is still being made; try again shortly");
        };
        let parse = |k: &str| req.param(k).filter(|v| !v.is_empty()).map(query_time).transpose();
        let window = match (parse("since"), parse("until"), req.param("last").map(query_last).transpose()) {
            (Ok(since), Ok(until), Ok(last)) => {
                let since = match last {
                    Some(ns) => Some(jiff::Timestamp::now().as_nanosecond() as i64 - ns),
                    None => since,
                };
                if since.is_none() && until.is_none() {
                    let mut w = Window::all();
                    w.how = format!("all of {}", sum.logs);
                    w
                } else {
                    let mut w = Window::given(since, until);
                    w.how = "asked (since/until/last)".into();
                    w
                }
            }
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Response::text(400, e),
        };
        let doc = summary::document(&sum, &host, &window);
        match serde_json::to_vec(&doc) {
            Ok(b) => Response::new(200, "application/json", b),
            Err(e) => Response::text(500, e.to_string()),
        }
    }
}

impl Handler for Agent {
    fn handle(&self, req: &Request) -> Response {
        match req.path.as_str() {
            "/metrics" => Response::new(200, metrics::CONTENT_TYPE, self.exposition()),
            "/summary" => self.summary_response(req),
            "/healthz" => {
                let s = self.state();
                let limit = self.cfg.interval * 3 + self.cfg.doctor.deadline + self.cfg.grace;
                match s.last_cycle {
                    Some(t) if t.elapsed() <= limit => Response::text(200, "ok"),
                    Some(t) => Response::text(503, format!("no cycle completed for {:.0} s", t.elapsed().as_secs_f64())),
                    None => Response::text(503, "the first cycle has not completed yet"),
                }
            }
            "/" => Response::text(
                200,
                "rootline agent: /metrics (Prometheus text format), /summary?since=&until=&last= (the node's summary for `rootline fleet --agents`), /healthz",
            ),
            _ => Response::text(404, "not found: /metrics, /summary, /healthz"),
        }
    }
}
