//! Node conditions and Events in node-problem-detector's style (`--node-conditions`).
//!
//! Three conditions on the node's status, each `True` or `False` with a reason and a message:
//!
//! | type | `True` when |
//! |---|---|
//! | `StaleMultipathMap` | doctor finds a multipath map with no active path (`multipath.stale-map`) |
//! | `TaskHung` | a task has stayed in D state for [`HUNG_AFTER`] across cycles (the kernel's default `hung_task_timeout_secs`), or tasks in D wait on a stale map |
//! | `LibvirtUnresponsive` | `virsh list` timed out or libvirtd is in D state (`libvirt.daemon-unresponsive`) |
//!
//! They are written with a strategic merge patch of `/api/v1/nodes/NODE/status` (conditions merge by
//! `type`, so the kubelet's own are untouched), when one changes and otherwise every
//! [`HEARTBEAT`]; `lastTransitionTime` moves only when the status does. When one turns `True`, a
//! `Warning` Event about the node is created in the `default` namespace (where the kubelet records
//! node events, so `kubectl describe node` shows it). The agent speaks plain HTTP to a loopback
//! `kubectl proxy` beside it, which authenticates with the pod's service account; the RBAC it needs
//! is `patch` on `nodes/status` and `create` on `events` (deploy/kubernetes/node-conditions/).
//! (See: https://kubernetes.io/docs/reference/using-api/api-concepts/ for patches and
//! https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/node-v1/ for conditions.)

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rootline_node::doctor::{Report, Severity};
use serde_json::json;

use crate::pull::{self, Url};

/// How long a task stays in D before `TaskHung` (the kernel's default hung-task timeout).
pub const HUNG_AFTER: Duration = Duration::from_secs(120);
/// Conditions are written at least this often, changed or not.
pub const HEARTBEAT: Duration = Duration::from_secs(300);
/// Per API request.
pub const API_TIMEOUT: Duration = Duration::from_secs(3);

/// The Kubernetes API, as reached through `kubectl proxy`.
#[derive(Debug, Clone)]
pub struct Api {
    base: Url,
}

impl Api {
    /// `http://HOST:PORT` of the proxy.
    pub fn new(url: &str) -> Result<Api, String> {
        let mut base = pull::parse_url(url)?;
        if base.path == "/summary" {
            base.path = String::new();
        }
        Ok(Api { base: Url { path: base.path.trim_end_matches('/').to_string(), ..base } })
    }

    fn url(&self, path: &str) -> Url {
        Url { path: format!("{}{path}", self.base.path), ..self.base.clone() }
    }
}

/// One condition as wanted now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub kind: &'static str,
    pub status: bool,
    pub reason: &'static str,
    pub message: String,
}

fn cut(s: String) -> String {
    if s.chars().count() <= 1000 {
        return s;
    }
    let mut t: String = s.chars().take(1000).collect();
    t.push('…');
    t
}

/// Tracks conditions across cycles and writes them.
pub struct Conditions {
    api: Api,
    node: String,
    /// (pid, tid) -> (command name, first seen in D).
    in_d: BTreeMap<(u32, Option<u32>), (String, Instant)>,
    /// Type -> (status, lastTransitionTime) as last written.
    written: BTreeMap<&'static str, (Wanted, String)>,
    last_write: Option<Instant>,
}

impl Conditions {
    pub fn new(api: Api, node: &str) -> Conditions {
        Conditions { api, node: node.to_string(), in_d: BTreeMap::new(), written: BTreeMap::new(), last_write: None }
    }

    /// The conditions a report asks for, `now` being when it was made.
    pub fn wanted(&mut self, r: &Report, now: Instant) -> Vec<Wanted> {
        let titles = |sig: &str| -> Vec<String> {
            r.findings.iter().filter(|f| f.signature == sig).map(|f| f.title.clone()).collect()
        };
        let stale = titles("multipath.stale-map");
        let libvirt = titles("libvirt.daemon-unresponsive");
        let mut seen = BTreeMap::new();
        for t in r.tasks.iter().filter(|t| t.state == "D") {
            let key = (t.pid, t.tid);
            let since = match self.in_d.get(&key) {
                Some((comm, at)) if *comm == t.comm => *at,
                _ => now,
            };
            seen.insert(key, (t.comm.clone(), since));
        }
        self.in_d = seen;
        let hung: Vec<String> = self
            .in_d
            .iter()
            .filter(|(_, (_, at))| now.saturating_duration_since(*at) >= HUNG_AFTER)
            .map(|((pid, _), (comm, at))| {
                format!("{pid} {comm} for {} s", now.saturating_duration_since(*at).as_secs())
            })
            .collect();
        let on_map = r.findings.iter().any(|f| f.signature == "process.d-state" && f.severity == Severity::Failure);
        let mut hung_msg = Vec::new();
        if !hung.is_empty() {
            hung_msg.push(format!("in D state for over {} s: {}", HUNG_AFTER.as_secs(), hung.join(", ")));
        }
        if on_map {
            hung_msg
                .extend(titles("process.d-state").into_iter().map(|t| format!("{t}, waiting on a map without a path")));
        }
        vec![
            Wanted {
                kind: "StaleMultipathMap",
                status: !stale.is_empty(),
                reason: if stale.is_empty() { "MultipathMapsHavePaths" } else { "MultipathMapWithoutPath" },
                message: cut(if stale.is_empty() {
                    "every multipath map has an active path".into()
                } else {
                    stale.join("; ")
                }),
            },
            Wanted {
                kind: "TaskHung",
                status: !hung_msg.is_empty(),
                reason: if hung_msg.is_empty() { "NoHungTask" } else { "TaskInDState" },
                message: cut(if hung_msg.is_empty() {
                    "no task has stayed in D state".into()
                } else {
                    hung_msg.join("; ")
                }),
            },
            Wanted {
                kind: "LibvirtUnresponsive",
                status: !libvirt.is_empty(),
                reason: if libvirt.is_empty() { "LibvirtAnswers" } else { "LibvirtDoesNotAnswer" },
                message: cut(if libvirt.is_empty() {
                    "libvirtd answers (or is not on this node)".into()
                } else {
                    libvirt.join("; ")
                }),
            },
        ]
    }

    /// Writes the conditions when one changed or the heartbeat is due, and an Event for each that
    /// turned `True`. Returns the errors (the next cycle tries again).
    pub fn update(&mut self, r: &Report, now: Instant, wall: &str) -> Vec<String> {
        let wanted = self.wanted(r, now);
        let changed = wanted
            .iter()
            .any(|w| self.written.get(w.kind).is_none_or(|(old, _)| old.status != w.status || old.reason != w.reason));
        let due = self.last_write.is_none_or(|t| now.saturating_duration_since(t) >= HEARTBEAT);
        if !changed && !due {
            return Vec::new();
        }
        let mut errors = Vec::new();
        let mut conds = Vec::new();
        let mut turned_true = Vec::new();
        for w in &wanted {
            let transition = match self.written.get(w.kind) {
                Some((old, at)) if old.status == w.status => at.clone(),
                old => {
                    if w.status && old.is_none_or(|(o, _)| !o.status) {
                        turned_true.push(w.clone());
                    }
                    wall.to_string()
                }
            };
            conds.push(json!({
                "type": w.kind,
                "status": if w.status { "True" } else { "False" },
                "reason": w.reason,
                "message": w.message,
                "lastHeartbeatTime": wall,
                "lastTransitionTime": transition,
            }));
        }
        let patch = json!({ "status": { "conditions": conds } });
        let body = serde_json::to_vec(&patch).unwrap_or_default();
        let url = self.api.url(&format!("/api/v1/nodes/{}/status", self.node));
        match pull::request("PATCH", &url, None, Some(("application/strategic-merge-patch+json", &body)), API_TIMEOUT) {
            Ok((200, _)) => {
                for (w, c) in wanted.iter().zip(&conds) {
                    let at = c["lastTransitionTime"].as_str().unwrap_or(wall).to_string();
                    self.written.insert(w.kind, (w.clone(), at));
                }
                self.last_write = Some(now);
            }
            Ok((status, b)) => {
                errors.push(format!(
                    "node conditions: HTTP {status}: {}",
                    String::from_utf8_lossy(&b[..b.len().min(300)])
                ));
                return errors;
            }
            Err(e) => {
                errors.push(format!("node conditions: {e}"));
                return errors;
            }
        }
        for w in turned_true {
            let event = json!({
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": { "generateName": format!("{}.rootline-", self.node), "namespace": "default" },
                "involvedObject": { "apiVersion": "v1", "kind": "Node", "name": self.node, "uid": self.node },
                "reason": w.kind,
                "message": w.message,
                "type": "Warning",
                "source": { "component": "rootline-agent", "host": self.node },
                "reportingComponent": "rootline-agent",
                "reportingInstance": self.node,
                "firstTimestamp": wall,
                "lastTimestamp": wall,
                "count": 1,
            });
            let body = serde_json::to_vec(&event).unwrap_or_default();
            let url = self.api.url("/api/v1/namespaces/default/events");
            match pull::request("POST", &url, None, Some(("application/json", &body)), API_TIMEOUT) {
                Ok((200..=299, _)) => {}
                Ok((status, b)) => errors.push(format!(
                    "event {}: HTTP {status}: {}",
                    w.kind,
                    String::from_utf8_lossy(&b[..b.len().min(300)])
                )),
                Err(e) => errors.push(format!("event {}: {e}", w.kind)),
            }
        }
        errors
    }
}
