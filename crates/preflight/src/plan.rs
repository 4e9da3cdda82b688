//! The rollout plan: which nodes to upgrade in which order, with a gate between batches.
//!
//! Rules (docs/preflight.md, "The plan"):
//! - nodes whose preflight failed are held back, each with the checks that failed; with
//!   `--results`, a node without a result is held back too (nothing says it is ready);
//! - the canaries come first, in a batch of their own: the first nodes (in the nodes file's order)
//!   whose preflight succeeded, else the first that will be upgraded at all;
//! - then batches of `batch` nodes in the file's order; nodes with warnings go last, in batches of
//!   their own, so a gate stands between them and the rest;
//! - a gate follows every batch: the next one starts only when every node of this one passes it.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::check::Verdict;

/// The plan's JSON schema name.
pub const SCHEMA: &str = "rootline.preflight-plan/v1";

/// A node's preflight result, as read from a `rootline.preflight/v1` document.
#[derive(Debug, Clone)]
pub struct NodeResult {
    pub host: String,
    pub result: Verdict,
    pub checked_at: String,
    /// `id: first line of details` of each check that did not succeed.
    pub problems: Vec<(Verdict, String)>,
    /// The file it was read from.
    pub file: String,
}

impl NodeResult {
    /// Reads a `rootline.preflight/v1` document.
    pub fn from_json(text: &str, file: &str) -> Result<NodeResult, String> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("{file}: not JSON ({e}); give `rootline preflight --json` output"))?;
        if v["schema"] != crate::report::SCHEMA {
            return Err(format!("{file}: not a {} document (schema {})", crate::report::SCHEMA, v["schema"]));
        }
        let host = v["host"].as_str().filter(|h| !h.is_empty()).ok_or_else(|| format!("{file}: no host"))?;
        let result = v["result"]
            .as_str()
            .and_then(Verdict::parse)
            .ok_or_else(|| format!("{file}: result {} is not success, warning or failure", v["result"]))?;
        let mut problems = Vec::new();
        for c in v["checks"].as_array().into_iter().flatten() {
            let r = c["result"].as_str().and_then(Verdict::parse).unwrap_or(Verdict::Skipped);
            if r >= Verdict::Warning {
                // The first line, or a summary line with the first item under it.
                let mut lines = c["details"].as_str().unwrap_or("").lines().map(str::trim);
                let mut first = lines.next().unwrap_or("").to_string();
                if first.ends_with(':') {
                    if let Some(item) = lines.next() {
                        first = format!("{first} {item}");
                    }
                }
                problems.push((r, format!("{}: {first}", c["id"].as_str().unwrap_or("?"))));
            }
        }
        problems.sort_by_key(|(r, _)| std::cmp::Reverse(*r));
        Ok(NodeResult {
            host: host.to_string(),
            result,
            checked_at: v["checked_at"].as_str().unwrap_or("").to_string(),
            problems,
            file: file.to_string(),
        })
    }
}

/// One node in a batch.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub host: String,
    /// `success`, `warning`, or `unchecked` (no results were given).
    pub preflight: String,
    /// The warnings, for a node that had some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Batch {
    pub number: usize,
    /// `canary`, `rolling` or `warnings`.
    pub kind: &'static str,
    pub nodes: Vec<Node>,
    /// What must hold before the next batch starts.
    pub gate: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Held {
    pub host: String,
    pub reason: String,
}

/// The plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub schema: &'static str,
    pub nodes: usize,
    pub canary: usize,
    pub batch: usize,
    /// Whether preflight results were given (`--results`).
    pub results: bool,
    /// What is done to each node, in order.
    pub per_node: Vec<String>,
    pub batches: Vec<Batch>,
    pub held_back: Vec<Held>,
    /// Results for hosts that are not in the nodes file.
    pub unknown_results: Vec<String>,
}

impl Plan {
    /// 0 when every node is in a batch, 1 when some are held back.
    pub fn exit_code(&self) -> u8 {
        if self.held_back.is_empty() {
            0
        } else {
            1
        }
    }
}

/// Reads a nodes file: one host a line (the first word; `#` starts a comment). Errors name the
/// line.
pub fn read_nodes(text: &str, file: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, l) in text.lines().enumerate() {
        let l = l.split('#').next().unwrap_or("").trim();
        let Some(host) = l.split_whitespace().next() else { continue };
        if let Some(first) = seen.insert(host.to_string(), i + 1) {
            return Err(format!("{file}:{}: node {host} is listed twice (first on line {first})", i + 1));
        }
        out.push(host.to_string());
    }
    if out.is_empty() {
        return Err(format!("{file}: no node in it (one host name a line)"));
    }
    Ok(out)
}

const PER_NODE: &[&str] = &[
    "rootline preflight on the node: exit 0 (or only the warnings this plan shows) to go on",
    "live-migrate its VMs to nodes outside the batch (openstack server migrate --live-migration ...), and disable the compute service so nothing lands on it",
    "stop nova-compute gracefully (SIGTERM, let it finish what it does) before its pod or package is replaced",
    "upgrade the node",
    "rootline preflight and rootline doctor again: exit 0; then enable the compute service",
];

fn gate(kind: &str, next: Option<usize>) -> String {
    let then = match next {
        Some(n) => format!("then batch {n}"),
        None => "then the rollout is done".into(),
    };
    let watch = if kind == "canary" {
        "; watch the canaries through a working period (VM starts, live migration, volume attach and detach) before going wider"
    } else {
        ""
    };
    format!(
        "every node of this batch upgraded, `rootline preflight` exits 0 on each (no map without a path, no task in D state, libvirt answers), `rootline doctor` exits 0, its compute service is up{watch}; stop the rollout on any failure, {then}"
    )
}

/// Makes the plan. `results`: `None` when none were given; else by host.
pub fn plan(nodes: &[String], results: Option<&BTreeMap<String, NodeResult>>, canary: usize, batch: usize) -> Plan {
    let batch = batch.max(1);
    let mut held = Vec::new();
    let mut good: Vec<Node> = Vec::new();
    let mut warned: Vec<Node> = Vec::new();
    let lookup = |h: &str| -> Option<&NodeResult> {
        let r = results?;
        r.get(h).or_else(|| {
            // A short name against a fully qualified one, when only one matches.
            let short = |x: &str| x.split('.').next().unwrap_or(x).to_string();
            let m: Vec<&NodeResult> = r.values().filter(|n| short(&n.host) == short(h)).collect();
            (m.len() == 1).then(|| m[0])
        })
    };
    for h in nodes {
        match (results, lookup(h)) {
            (None, _) => good.push(Node { host: h.clone(), preflight: "unchecked".into(), warnings: Vec::new() }),
            (Some(_), None) => held.push(Held { host: h.clone(), reason: "no preflight result".into() }),
            (Some(_), Some(r)) => match r.result {
                Verdict::Failure => {
                    let failures: Vec<&str> =
                        r.problems.iter().filter(|(v, _)| *v == Verdict::Failure).map(|(_, p)| p.as_str()).collect();
                    held.push(Held { host: h.clone(), reason: format!("preflight failed: {}", failures.join("; ")) });
                }
                Verdict::Warning => warned.push(Node {
                    host: h.clone(),
                    preflight: "warning".into(),
                    warnings: r.problems.iter().map(|(_, p)| p.clone()).collect(),
                }),
                _ => good.push(Node { host: h.clone(), preflight: "success".into(), warnings: Vec::new() }),
            },
        }
    }
    // Canaries: the first good nodes; with none good, the first warned ones.
    let mut batches: Vec<(&'static str, Vec<Node>)> = Vec::new();
    let take = canary.min(good.len() + warned.len());
    if take > 0 {
        let from_good = take.min(good.len());
        let mut c: Vec<Node> = good.drain(..from_good).collect();
        c.extend(warned.drain(..take - from_good));
        batches.push(("canary", c));
    }
    for chunk in good.chunks(batch) {
        batches.push(("rolling", chunk.to_vec()));
    }
    for chunk in warned.chunks(batch) {
        batches.push(("warnings", chunk.to_vec()));
    }
    let n = batches.len();
    let batches = batches
        .into_iter()
        .enumerate()
        .map(|(i, (kind, nodes))| Batch { number: i + 1, kind, nodes, gate: gate(kind, (i + 1 < n).then_some(i + 2)) })
        .collect();
    let unknown_results = results
        .map(|r| {
            r.values()
                .filter(|n| !nodes.iter().any(|h| *h == n.host || lookup(h).is_some_and(|x| x.host == n.host)))
                .map(|n| format!("{} ({})", n.host, n.file))
                .collect()
        })
        .unwrap_or_default();
    Plan {
        schema: SCHEMA,
        nodes: nodes.len(),
        canary,
        batch,
        results: results.is_some(),
        per_node: PER_NODE.iter().map(|s| s.to_string()).collect(),
        batches,
        held_back: held,
        unknown_results,
    }
}

/// The plan as text.
pub fn render_text(p: &Plan) -> String {
    let mut s = String::new();
    let scheduled: usize = p.batches.iter().map(|b| b.nodes.len()).sum();
    let _ = writeln!(
        s,
        "rootline preflight plan: {} nodes, {} in {} batches ({} canary, then batches of {}), {} held back{}",
        p.nodes,
        scheduled,
        p.batches.len(),
        p.canary,
        p.batch,
        p.held_back.len(),
        if p.results { "" } else { "; no preflight results given: every node is checked as its turn comes" }
    );
    let _ = writeln!(s, "\nFor each node, in order:");
    for (i, step) in p.per_node.iter().enumerate() {
        let _ = writeln!(s, "  {}. {step}", i + 1);
    }
    for b in &p.batches {
        let what = match b.kind {
            "canary" => " (canary)",
            "warnings" => " (nodes with warnings, last)",
            _ => "",
        };
        let _ = writeln!(
            s,
            "\nBatch {}{what}: {} node{}",
            b.number,
            b.nodes.len(),
            if b.nodes.len() == 1 { "" } else { "s" }
        );
        for n in &b.nodes {
            let _ = writeln!(s, "  {}  {}", n.host, n.preflight);
            for w in &n.warnings {
                let _ = writeln!(s, "      {w}");
            }
        }
        let _ = writeln!(s, "  gate: {}", b.gate);
    }
    if !p.held_back.is_empty() {
        let _ = writeln!(s, "\nHeld back (fix, re-run preflight, then plan again):");
        for h in &p.held_back {
            let _ = writeln!(s, "  {}  {}", h.host, h.reason);
        }
    }
    if !p.unknown_results.is_empty() {
        let _ = writeln!(s, "\nResults for nodes not in the nodes file (ignored): {}", p.unknown_results.join(", "));
    }
    s
}

/// The plan as Markdown (for a change ticket).
pub fn render_md(p: &Plan) -> String {
    let mut s = String::new();
    let esc = |t: &str| t.replace('|', "\\|");
    let _ = writeln!(s, "# Upgrade plan\n");
    let scheduled: usize = p.batches.iter().map(|b| b.nodes.len()).sum();
    let _ = writeln!(
        s,
        "{} nodes: {} in {} batches ({} canary, then batches of {}), {} held back.\n",
        p.nodes,
        scheduled,
        p.batches.len(),
        p.canary,
        p.batch,
        p.held_back.len()
    );
    let _ = writeln!(s, "## For each node\n");
    for (i, step) in p.per_node.iter().enumerate() {
        let _ = writeln!(s, "{}. {step}", i + 1);
    }
    for b in &p.batches {
        let what = match b.kind {
            "canary" => " (canary)",
            "warnings" => " (nodes with warnings)",
            _ => "",
        };
        let _ = writeln!(s, "\n## Batch {}{what}\n", b.number);
        let _ = writeln!(s, "| node | preflight | warnings |\n|---|---|---|");
        for n in &b.nodes {
            let _ = writeln!(s, "| {} | {} | {} |", esc(&n.host), n.preflight, esc(&n.warnings.join("; ")));
        }
        let _ = writeln!(s, "\nGate: {}", b.gate);
    }
    if !p.held_back.is_empty() {
        let _ = writeln!(s, "\n## Held back\n\n| node | reason |\n|---|---|");
        for h in &p.held_back {
            let _ = writeln!(s, "| {} | {} |", esc(&h.host), esc(&h.reason));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(host: &str, v: Verdict, problems: &[(Verdict, &str)]) -> NodeResult {
        NodeResult {
            host: host.into(),
            result: v,
            checked_at: String::new(),
            problems: problems.iter().map(|(v, p)| (*v, p.to_string())).collect(),
            file: format!("{host}.json"),
        }
    }

    #[test]
    fn canaries_first_failures_held_warnings_last() {
        let nodes: Vec<String> = (1..=9).map(|i| format!("n{i}")).collect();
        let mut r = BTreeMap::new();
        for h in &nodes {
            r.insert(h.clone(), result(h, Verdict::Success, &[]));
        }
        r.insert(
            "n1".into(),
            result("n1", Verdict::Warning, &[(Verdict::Warning, "multipath.conf.no-path-retry: queue")]),
        );
        r.insert(
            "n4".into(),
            result(
                "n4",
                Verdict::Failure,
                &[(Verdict::Failure, "multipath.stale-maps: mpatha"), (Verdict::Warning, "x: y")],
            ),
        );
        r.remove("n7");
        r.insert("other".into(), result("other", Verdict::Success, &[]));
        let p = plan(&nodes, Some(&r), 2, 3);
        fn hosts(b: &Batch) -> Vec<&str> {
            b.nodes.iter().map(|n| n.host.as_str()).collect()
        }
        assert_eq!(p.batches.iter().map(|b| b.kind).collect::<Vec<_>>(), ["canary", "rolling", "rolling", "warnings"]);
        assert_eq!(hosts(&p.batches[0]), ["n2", "n3"], "canaries are the first nodes that passed");
        assert_eq!(hosts(&p.batches[1]), ["n5", "n6", "n8"]);
        assert_eq!(hosts(&p.batches[2]), ["n9"]);
        assert_eq!(hosts(&p.batches[3]), ["n1"]);
        assert_eq!(p.batches[3].nodes[0].warnings, ["multipath.conf.no-path-retry: queue"]);
        let held: Vec<(&str, &str)> = p.held_back.iter().map(|h| (h.host.as_str(), h.reason.as_str())).collect();
        assert_eq!(held, [("n4", "preflight failed: multipath.stale-maps: mpatha"), ("n7", "no preflight result")]);
        assert_eq!(p.unknown_results, ["other (other.json)"]);
        assert_eq!(p.exit_code(), 1);
        assert!(p.batches[0].gate.contains("then batch 2") && p.batches[0].gate.contains("canaries"));
        assert!(p.batches[3].gate.ends_with("then the rollout is done"));
        let t = render_text(&p);
        assert!(
            t.starts_with(
                "rootline preflight plan: 9 nodes, 7 in 4 batches (2 canary, then batches of 3), 2 held back\n"
            ),
            "{t}"
        );
        assert!(t.contains("\nBatch 4 (nodes with warnings, last): 1 node\n  n1  warning\n      multipath.conf.no-path-retry: queue\n"), "{t}");
        let md = render_md(&p);
        assert!(md.contains("| n4 | preflight failed: multipath.stale-maps: mpatha |"), "{md}");
    }

    #[test]
    fn without_results_every_node_is_planned_in_order() {
        let nodes: Vec<String> = (1..=5).map(|i| format!("n{i}.example")).collect();
        let p = plan(&nodes, None, 1, 2);
        assert_eq!(p.batches.len(), 3);
        assert_eq!(p.batches[0].nodes.len(), 1);
        assert!(p.batches.iter().flat_map(|b| &b.nodes).all(|n| n.preflight == "unchecked"));
        assert_eq!(p.exit_code(), 0);
        // No canary asked: the batches start at once; short names find fully qualified results.
        let mut r = BTreeMap::new();
        r.insert("n1".into(), result("n1", Verdict::Success, &[]));
        let p = plan(&nodes[..1], Some(&r), 0, 20);
        assert_eq!((p.batches.len(), p.batches[0].kind), (1, "rolling"));
    }

    #[test]
    fn nodes_files_and_results() {
        assert_eq!(read_nodes("# pool A\nn1  rack 3\n\nn2\n", "nodes.txt").unwrap(), ["n1", "n2"]);
        assert_eq!(
            read_nodes("n1\nn2\nn1\n", "nodes.txt").unwrap_err(),
            "nodes.txt:3: node n1 is listed twice (first on line 1)"
        );
        assert!(read_nodes("# nothing\n", "nodes.txt").is_err());
        let doc = r#"{"schema":"rootline.preflight/v1","host":"n1","checked_at":"2026-01-01T00:00:00Z","result":"failure",
          "checks":[{"id":"multipath.stale-maps","title":"t","result":"failure","details":"mpatha (dm-0): no active path\nWhat to do: x","evidence":[]},
                    {"id":"k","title":"t","result":"success","details":"ok","evidence":[]}]}"#;
        let r = NodeResult::from_json(doc, "n1.json").unwrap();
        assert_eq!((r.host.as_str(), r.result), ("n1", Verdict::Failure));
        assert_eq!(r.problems, [(Verdict::Failure, "multipath.stale-maps: mpatha (dm-0): no active path".to_string())]);
        assert!(NodeResult::from_json("{\"schema\":\"rootline.doctor/v1\"}", "d.json")
            .unwrap_err()
            .contains("not a rootline.preflight/v1"));
        assert!(NodeResult::from_json("nope", "x.json").unwrap_err().starts_with("x.json: not JSON"));
    }
}
