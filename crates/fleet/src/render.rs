//! The terminal rendering: the ranked nodes with their reasons, what only the target showed (each
//! with its file:line), what every node shared, other differences, and the target's root cause as
//! ranked with the peers.

use std::fmt::Write;

use rootline_correlate::peers::{PeerFact, WindowNote};
use rootline_event::{count, cut};

use crate::{Contrast, Fleet, NodeSummary, RankedNode};

fn fact(o: &mut String, f: &PeerFact) {
    let note = f.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
    let what = if f.kind == "template" { format!("`{}`", cut(&f.what, 100)) } else { f.what.clone() };
    let _ = writeln!(o, "  {} {what}: seen on {} of {}{note}", f.kind, f.seen_on, count(f.of as u64, "node"));
    for e in f.evidence.iter().take(1) {
        let _ = writeln!(o, "      {}:{}  {}", e.path, e.line, cut(&e.text, 110));
    }
}

/// Renders `f` for a terminal.
pub fn render(f: &Fleet) -> String {
    let mut o = comparison(&f.window, &f.target, &f.ranking, &f.summaries, &f.contrast);
    analysis_part(&mut o, f);
    o
}

/// The comparison without the target's analysis: the window, the ranking, what only the target
/// showed, what all shared, the differences (also what `fleet --agents` prints, from summaries).
pub fn comparison(
    window: &WindowNote,
    target: &str,
    ranking: &[RankedNode],
    summaries: &[NodeSummary],
    c: &Contrast,
) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "rootline fleet: {} compared; target {target}", count(summaries.len() as u64, "node"));
    let _ = writeln!(
        o,
        "window {} .. {}: {}",
        window.since.as_deref().unwrap_or("-"),
        window.until.as_deref().unwrap_or("-"),
        window.how
    );
    let _ = writeln!(o, "\nNodes, most unusual first (score: faults 3, symptoms 1, times rarity; see docs/fleet.md):");
    let width = ranking.iter().map(|r| r.host.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(o, "  {:>4}  {:>6}  {:<width$}  first fault in window / reason", "rank", "score", "host");
    for (i, r) in ranking.iter().enumerate() {
        let s = &summaries[r.index];
        let ff = s
            .first_fault
            .as_ref()
            .map(|x| format!("{} {}", x.time.as_deref().unwrap_or("-"), x.signature))
            .unwrap_or_else(|| "no fault".into());
        let _ = writeln!(o, "  {:>4}  {:>6.2}  {:<width$}  {ff}", i + 1, r.score, r.host);
        for why in r.reasons.iter().take(3) {
            let _ = writeln!(o, "  {:>4}  {:>6}  {:<width$}    - {}", "", "", "", cut(why, 150));
        }
        if r.reasons.len() > 3 {
            let _ = writeln!(o, "  {:>4}  {:>6}  {:<width$}    - … {} more (--json)", "", "", "", r.reasons.len() - 3);
        }
    }
    let peers = count(c.nodes.saturating_sub(1) as u64, "peer");
    let _ = writeln!(o, "\nOnly on {} (absent or rare on its {peers}):", c.target);
    if c.only_target.is_empty() {
        let _ = writeln!(o, "  nothing: every signature and template it logged in the window was logged by peers too");
    }
    let sigs: Vec<&PeerFact> = c.only_target.iter().filter(|x| x.kind == "signature").collect();
    let tpls: Vec<&PeerFact> = c.only_target.iter().filter(|x| x.kind == "template").collect();
    for x in &sigs {
        fact(&mut o, x);
    }
    for x in tpls.iter().take(10) {
        fact(&mut o, x);
    }
    if tpls.len() > 10 {
        let _ = writeln!(o, "  … {} (--json)", count((tpls.len() - 10) as u64, "more template"));
    }
    let _ = writeln!(o, "\nCommon to all {} nodes (so not what broke the target):", c.nodes);
    for x in &c.common {
        fact(&mut o, x);
    }
    let _ =
        writeln!(o, "  {} logged by every node in the window", count(c.common_templates as u64, "message template"));
    if !c.differences.is_empty() {
        let _ = writeln!(o, "\nVersions and upgrade timing (facts; as causes, hypotheses only):");
        for x in &c.differences {
            fact(&mut o, x);
        }
    }
    o
}

fn analysis_part(o: &mut String, f: &Fleet) {
    let a = &f.analysis;
    let _ = writeln!(o, "\nThe target's analysis, ranked with the peers (verdict {}):", a.verdict.as_str());
    if let Some(i) = a.incidents.first() {
        let rc = &i.root_cause;
        let _ = writeln!(o, "  root cause {} (confidence {:.2}): {}", rc.finding, rc.confidence, rc.summary);
        for e in rc.evidence.iter().take(2) {
            let _ = writeln!(o, "      {}:{}  {}", e.path, e.line, cut(&e.text, 110));
        }
    }
    if let Some(w) = &a.why_only_this_node {
        if w.lowered.is_empty() {
            let _ = writeln!(o, "  no root-cause candidate of the target was seen on a peer");
        }
        for x in &w.lowered {
            let _ = writeln!(o, "  lowered: {x}");
        }
    }
    let _ =
        writeln!(o, "  (full chain: rootline analyze on the target; --json has the analysis with why_only_this_node)");
}
