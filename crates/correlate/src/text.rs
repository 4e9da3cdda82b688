//! The terminal rendering of an analysis: the root cause in one sentence, the chain as an indented
//! list with the decisive line of each link (`file:line`), the alternatives, what changed before, and
//! what is unknown. Repeated lines are collapsed (`x45 over 90 s`).

use std::collections::HashMap;
use std::fmt::Write;

use rootline_event::{count, cut, Timestamp};
use rootline_rules::{Evidence, Finding, Lang};

use crate::analysis::{Analysis, Incident};

struct L {
    verdict: &'static str,
    root: &'static str,
    proof: &'static str,
    chain: &'static str,
    alts: &'static str,
    changed: &'static str,
    unknown: &'static str,
    leads: &'static str,
    others: &'static str,
    conflicts: &'static str,
    none: &'static str,
    why: &'static str,
}

const EN: L = L {
    verdict: "verdict",
    root: "Root cause",
    proof: "proof",
    chain: "Chain (cause -> effect, decisive line of each link)",
    alts: "Alternatives",
    changed: "Changed on the host before the first fault (context, not proof)",
    unknown: "Unknown",
    leads: "Leads: lines new in the incident window that no rule knows (hypotheses, not links)",
    others: "Other incidents",
    conflicts: "Conflicting alias evidence",
    none: "No incident: only context and benign lines.",
    why: "Why only this node (fleet comparison, same window)",
};

const KO: L = L {
    verdict: "판정",
    root: "근본 원인",
    proof: "증거",
    chain: "인과 사슬 (원인 -> 결과, 각 연결의 결정적 로그)",
    alts: "다른 가설",
    changed: "첫 fault 전 host의 변경 사항 (context, 증거 아님)",
    unknown: "알 수 없는 것",
    leads: "단서: incident 구간에 처음 나타났지만 어떤 rule에도 해당하지 않는 로그 (가설, 인과 연결 아님)",
    others: "다른 incident",
    conflicts: "서로 모순되는 alias 증거",
    none: "incident 없음: context와 정상 로그만 있습니다.",
    why: "왜 이 노드만 (fleet 비교, 같은 시간 구간)",
};

/// A duration in words: `40 s`, `12 min`, `3.5 h`.
pub fn duration(secs: f64) -> String {
    let s = secs.abs();
    if s < 120.0 {
        format!("{:.0} s", s)
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

fn hms(t: Option<Timestamp>, offset: i32) -> String {
    match t {
        Some(t) => {
            let (_, _, _, h, m, s, _) = t.with_offset(offset).civil();
            format!("{h:02}:{m:02}:{s:02}")
        }
        None => "--:--:--".into(),
    }
}

/// `x45 over 90 s` for a repeated finding, empty for one hit.
pub fn repeats(f: &Finding) -> String {
    if f.count <= 1 {
        return String::new();
    }
    match (f.first, f.last) {
        (Some(a), Some(b)) if b.unix_nanos > a.unix_nanos => {
            format!(" x{} over {}", f.count, duration((b.unix_nanos - a.unix_nanos) as f64 / 1e9))
        }
        _ => format!(" x{}", f.count),
    }
}

fn cite(e: &Evidence) -> String {
    format!("{}:{}", e.path, e.line)
}

/// Renders `a` for a terminal.
pub fn render(a: &Analysis, lang: Lang) -> String {
    let l = match lang {
        Lang::Ko => &KO,
        Lang::En => &EN,
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "rootline analyze: {} {} ({}, {}, {})",
        l.verdict,
        a.verdict.as_str(),
        count(a.inputs.files, "file"),
        count(a.inputs.events, "event"),
        count(a.findings.len() as u64, "finding")
    );
    if a.incidents.is_empty() {
        let _ = writeln!(o, "{}", l.none);
        return o;
    }
    let by_id: HashMap<&str, &Finding> = a.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    let main = &a.incidents[0];
    incident(&mut o, main, &by_id, l);
    if let Some(w) = &a.why_only_this_node {
        why_only(&mut o, w, l);
    }
    if a.incidents.len() > 1 {
        let _ = writeln!(o, "\n{}:", l.others);
        for i in &a.incidents[1..] {
            let f = by_id.get(i.root_cause.finding.as_str());
            let _ = writeln!(
                o,
                "  {} {} (confidence {:.2}, {}, {}){}",
                i.start.as_deref().unwrap_or("-"),
                i.root_cause.finding,
                i.root_cause.confidence,
                count(i.findings.len() as u64, "finding"),
                count(i.chain.len() as u64, "link"),
                f.map(|f| repeats(f)).unwrap_or_default()
            );
            if let Some(e) = i.root_cause.evidence.first() {
                let _ = writeln!(o, "      {}  {}", cite(e), cut(&e.text, 110));
            }
        }
    }
    let conflicts: Vec<_> = a.aliases.iter().flat_map(|h| h.conflicts.iter()).collect();
    if !conflicts.is_empty() {
        let _ = writeln!(o, "\n{}:", l.conflicts);
        for c in conflicts {
            let cites: Vec<String> = c.evidence.iter().map(cite).collect();
            let _ = writeln!(o, "  - {} [{}]", c.what, cites.join(", "));
        }
    }
    o
}

fn incident(o: &mut String, i: &Incident, by_id: &HashMap<&str, &Finding>, l: &L) {
    let rc = &i.root_cause;
    let offset = by_id.get(rc.finding.as_str()).and_then(|f| f.first).map(|t| t.offset_secs).unwrap_or(0);
    let _ = writeln!(o, "\n{} (confidence {:.2}, {}):", l.root, rc.confidence, rc.finding);
    let _ = writeln!(o, "  {}", rc.summary);
    for e in rc.evidence.iter().take(4) {
        let _ = writeln!(o, "    {}: {}  {}", l.proof, cite(e), cut(&e.text, 110));
    }
    // Depth of each finding: longest chain of links leading to it.
    let mut depth: HashMap<&str, usize> = HashMap::new();
    for _ in 0..i.chain.len() {
        let mut changed = false;
        for c in &i.chain {
            let d = depth.get(c.cause.as_str()).copied().unwrap_or(0) + 1;
            if depth.get(c.effect.as_str()).copied().unwrap_or(0) < d && d <= i.chain.len() {
                depth.insert(c.effect.as_str(), d);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let t = |id: &str| by_id.get(id).and_then(|f| f.first).map(|t| t.unix_nanos).unwrap_or(i64::MAX);
    // The decisive link of each effect: the strongest prior, then the earliest cause.
    let mut best: HashMap<&str, &crate::analysis::ChainLink> = HashMap::new();
    for c in &i.chain {
        let better = match best.get(c.effect.as_str()) {
            None => true,
            Some(b) => {
                let root = |x: &crate::analysis::ChainLink| x.cause == rc.finding;
                c.prior > b.prior + 1e-9
                    || ((c.prior - b.prior).abs() < 1e-9
                        && (root(c) && !root(b) || (root(c) == root(b) && t(&c.cause) < t(&b.cause))))
            }
        };
        if better {
            best.insert(c.effect.as_str(), c);
        }
    }
    // In chain order before the (stable) sort, so that ties do not take the hash map's order.
    let mut links: Vec<_> =
        i.chain.iter().filter(|c| best.get(c.effect.as_str()).is_some_and(|b| std::ptr::eq(*b, *c))).collect();
    links.sort_by_key(|c| (depth.get(c.cause.as_str()).copied().unwrap_or(0), t(&c.cause), t(&c.effect)));
    let _ = writeln!(o, "\n{}:", l.chain);
    let links_shown = links.len();
    for c in links {
        let d = depth.get(c.cause.as_str()).copied().unwrap_or(0).min(8);
        let (cf, ef) = (by_id.get(c.cause.as_str()), by_id.get(c.effect.as_str()));
        let pad = "  ".repeat(d + 1);
        let _ = writeln!(
            o,
            "{pad}{} {}{} -> {} {}{}",
            hms(cf.and_then(|f| f.first), offset),
            c.cause,
            cf.map(|f| repeats(f)).unwrap_or_default(),
            hms(ef.and_then(|f| f.first), offset),
            c.effect,
            ef.map(|f| repeats(f)).unwrap_or_default(),
        );
        let via = if c.via.is_empty() {
            format!("shared {}", c.entities.join(", "))
        } else {
            let steps: Vec<String> = c.via.iter().map(|e| format!("{}~{} [{}]", e.a, e.b, e.cite())).collect();
            format!("via {}", steps.join("; "))
        };
        let _ = writeln!(o, "{pad}    {} ({}); {}", c.link, format_args!("prior {:.2}", c.prior), cut(&via, 220));
        if let Some(e) = ef.and_then(|f| f.evidence.first()) {
            let _ = writeln!(o, "{pad}    {}  {}", cite(e), cut(&e.text, 110));
        }
    }
    if i.chain.len() > links_shown {
        let more = (i.chain.len() - links_shown) as u64;
        let _ = writeln!(o, "  ({} allowed by the evidence: --format json)", count(more, "more link"));
    }
    if !i.alternatives.is_empty() {
        let _ = writeln!(o, "\n{}:", l.alts);
        for a in &i.alternatives {
            let _ = writeln!(o, "  - {} ({:.2}): {}", a.finding, a.confidence, a.why_not);
        }
    }
    if !i.context.is_empty() {
        let _ = writeln!(o, "\n{}:", l.changed);
        for c in &i.context {
            let at = c.evidence.as_ref().map(cite).unwrap_or_default();
            let _ = writeln!(
                o,
                "  - {} {} ({} before) {}",
                c.time.as_deref().unwrap_or("-"),
                c.summary,
                duration(c.before_first_fault_secs.unwrap_or(0.0)),
                at
            );
        }
    }
    if !i.leads.is_empty() {
        let _ = writeln!(o, "\n{}:", l.leads);
        for ld in &i.leads {
            let times = if ld.count > 1 { format!(" x{}", ld.count) } else { String::new() };
            let _ = writeln!(o, "  - {}{times}  {}", ld.template, cite(&ld.evidence));
        }
    }
    if !i.unknown.is_empty() {
        let _ = writeln!(o, "\n{}:", l.unknown);
        for u in i.unknown.iter().take(12) {
            let _ = writeln!(o, "  - {u}");
        }
        if i.unknown.len() > 12 {
            let _ = writeln!(o, "  - … {} more (see --format json)", i.unknown.len() - 12);
        }
    }
}

fn why_only(o: &mut String, w: &crate::peers::WhyOnlyThisNode, l: &L) {
    let _ = writeln!(o, "\n{}:", l.why);
    if let Some(win) = &w.window {
        let _ = writeln!(
            o,
            "  window {} .. {} ({})",
            win.since.as_deref().unwrap_or("-"),
            win.until.as_deref().unwrap_or("-"),
            win.how
        );
    }
    let fact = |o: &mut String, f: &crate::peers::PeerFact| {
        let at = f.evidence.first().map(|e| format!("  {}", cite(e))).unwrap_or_default();
        let note = f.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        let of = count(f.of as u64, "node");
        let _ = writeln!(o, "  - {} {}: seen on {} of {of}{note}{at}", f.kind, cut(&f.what, 90), f.seen_on);
    };
    for f in w.only_here.iter().take(12) {
        fact(o, f);
    }
    if w.only_here.len() > 12 {
        let _ = writeln!(o, "  - … {} more (see --format json)", w.only_here.len() - 12);
    }
    for f in w.differences.iter().take(6) {
        fact(o, f);
    }
    for f in w.shared.iter().take(8) {
        fact(o, f);
    }
    for x in &w.lowered {
        let _ = writeln!(o, "  - lowered: {x}");
    }
}
