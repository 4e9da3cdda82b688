//! The terminal rendering of an analysis: the root cause in one sentence, the chain as an indented
//! list with the decisive line of each link (`file:line`), the alternatives, what changed before, and
//! what is unknown. Repeated lines are collapsed (`x45 over 90 s`).

use std::collections::HashMap;
use std::fmt::Write;

use rootline_event::{count, cut, thousands, Timestamp};
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
    none: "only context and benign lines.",
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
    none: "context와 정상 로그만 있습니다.",
    why: "왜 이 노드만 (fleet 비교, 같은 시간 구간)",
};

/// A duration in words: `40 s`, `12 min`, `3.5 h`, `4.2 d` (from two days).
pub fn duration(secs: f64) -> String {
    let s = secs.abs();
    if s < 120.0 {
        format!("{:.0} s", s)
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 2.0 * 86400.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86400.0)
    }
}

/// `the same fault 14 times in 3.0 d (first .., last ..)`, for an incident whose fault recurred.
fn recurs(r: &crate::recurrence::Recurrence, lang: Lang) -> String {
    let (first, last) = (r.first.as_deref().unwrap_or("-"), r.last.as_deref().unwrap_or("-"));
    match lang {
        Lang::En => format!(
            "the same fault {} times in {} (first {first}, last {last})",
            thousands(r.count as u64),
            duration(r.span_secs)
        ),
        Lang::Ko => format!(
            "같은 fault가 {} 동안 {}번 (처음 {first}, 마지막 {last})",
            duration(r.span_secs),
            thousands(r.count as u64)
        ),
    }
}

/// `HH:MM:SS` of `t` in the offset it carries (an analysis shows all its times in one zone).
fn hms(t: Option<Timestamp>) -> String {
    match t {
        Some(t) => {
            let (_, _, _, h, m, s, _) = t.civil();
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

/// A byte count as people write limits: `1 MiB`, `64 KiB`, else `1,000 bytes`.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", thousands(bytes >> 20))
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", thousands(bytes >> 10))
    } else {
        format!("{} bytes", thousands(bytes))
    }
}

/// The words for a kind of skipped input ([`rootline_ingest::source::skip_kind`]): singular, plural.
fn kind_words(kind: &str, lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::En => match kind {
            "binary" => ("binary file", "binary files"),
            "journal" => ("binary journal file", "binary journal files"),
            "empty" => ("empty file", "empty files"),
            "damaged" => ("damaged file with no readable line", "damaged files with no readable line"),
            "unreadable" => ("unreadable path", "unreadable paths"),
            "documentation" => ("documentation file", "documentation files"),
            "captured" => ("captured /proc or /sys file", "captured /proc or /sys files"),
            "special" => ("special file", "special files"),
            "nested" => ("archive nested too deep", "archives nested too deep"),
            "symlink" => ("symbolic link to a directory", "symbolic links to directories"),
            _ => ("other input", "other inputs"),
        },
        Lang::Ko => match kind {
            "binary" => ("바이너리 파일", "바이너리 파일"),
            "journal" => ("바이너리 journal 파일", "바이너리 journal 파일"),
            "empty" => ("빈 파일", "빈 파일"),
            "damaged" => ("읽을 줄이 없는 손상된 파일", "읽을 줄이 없는 손상된 파일"),
            "unreadable" => ("읽을 수 없는 경로", "읽을 수 없는 경로"),
            "documentation" => ("문서 파일", "문서 파일"),
            "captured" => ("수집된 /proc·/sys 파일", "수집된 /proc·/sys 파일"),
            "special" => ("특수 파일", "특수 파일"),
            "nested" => ("너무 깊이 중첩된 archive", "너무 깊이 중첩된 archive"),
            "symlink" => ("디렉터리 심볼릭 링크", "디렉터리 심볼릭 링크"),
            _ => ("기타 입력", "기타 입력"),
        },
    }
}

/// `n` things in words: `1 binary file`, `2 binary files` (Korean: `바이너리 파일 2개`).
fn count_words(n: u64, (one, many): (&str, &str), lang: Lang) -> String {
    match lang {
        Lang::En => format!("{} {}", thousands(n), if n == 1 { one } else { many }),
        Lang::Ko => format!("{one} {}개", thousands(n)),
    }
}

/// What was not read in full, in one line: the inputs skipped by kind, the lines cut to the line
/// limit, the inputs read only in part (damaged or cut-short archives, with where they stopped).
/// `None` when everything was read. `skipped` and `warnings` are (path, reason) pairs as in the
/// analysis's `inputs`; files set aside on purpose (bundle facts, notes, captured /proc state) do
/// not count. Shared by the terminal text and the postmortem.
pub fn inputs_note<'a>(
    skipped: impl IntoIterator<Item = (&'a str, &'a str)>,
    warnings: impl IntoIterator<Item = (&'a str, &'a str)>,
    cut_lines: u64,
    max_line: u64,
    lang: Lang,
) -> Option<String> {
    let mut parts = Vec::new();
    let mut kinds: Vec<(&str, u64)> = Vec::new();
    for (_, reason) in skipped {
        let k = rootline_ingest::source::skip_kind(reason);
        // Files set aside on purpose are no gap in the evidence: bundle facts (read as such), notes
        // (a README) and captured /proc or /sys state (read by `doctor --root`).
        if matches!(k, "metadata" | "documentation" | "captured") {
            continue;
        }
        match kinds.iter_mut().find(|(x, _)| *x == k) {
            Some(e) => e.1 += 1,
            None => kinds.push((k, 1)),
        }
    }
    if !kinds.is_empty() {
        let total: u64 = kinds.iter().map(|k| k.1).sum();
        let each: Vec<String> = kinds.iter().map(|(k, n)| count_words(*n, kind_words(k, lang), lang)).collect();
        parts.push(match lang {
            Lang::En => format!("{} skipped: {}", count_words(total, ("input", "inputs"), lang), each.join(", ")),
            Lang::Ko => format!("건너뛴 입력 {}개: {}", thousands(total), each.join(", ")),
        });
    }
    if cut_lines > 0 {
        let limit = size(max_line);
        parts.push(match lang {
            Lang::En => format!("{} cut to {limit}", count_words(cut_lines, ("line", "lines"), lang)),
            Lang::Ko => format!("{limit}보다 긴 줄 {}개를 잘라서 읽음", thousands(cut_lines)),
        });
    }
    let mut partial: Vec<(&str, &str)> = Vec::new();
    for (path, reason) in warnings {
        if !rootline_ingest::source::is_cut_line_warning(reason) && !partial.iter().any(|p| p.0 == path) {
            partial.push((path, reason));
        }
    }
    if !partial.is_empty() {
        let shown: Vec<String> = partial.iter().take(2).map(|(p, r)| format!("{p} ({r})")).collect();
        let rest = partial.len().saturating_sub(2);
        let more = match (rest, lang) {
            (0, _) => String::new(),
            (n, Lang::En) => format!(" and {n} more"),
            (n, Lang::Ko) => format!(" 외 {n}개"),
        };
        parts.push(match lang {
            Lang::En => format!(
                "{} read in part: {}{more}",
                count_words(partial.len() as u64, ("input", "inputs"), lang),
                shown.join("; ")
            ),
            Lang::Ko => format!("일부만 읽은 입력 {}개: {}{more}", partial.len(), shown.join("; ")),
        });
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// What a `no_incident` verdict rests on: `No incident in 1,234 events over 3.2 h (FIRST .. LAST)
/// from node-a, node-b`. Shared by the terminal text and the postmortem.
pub fn no_incident_basis(events: u64, first: Option<&str>, last: Option<&str>, hosts: &[String], lang: Lang) -> String {
    let at = |s: Option<&str>| s.and_then(|s| s.parse::<jiff::Timestamp>().ok());
    let span = match (first, last, at(first), at(last)) {
        (Some(f), Some(l), Some(a), Some(b)) => {
            let secs = (b.as_nanosecond() - a.as_nanosecond()) as f64 / 1e9;
            Some((duration(secs), f, l))
        }
        _ => None,
    };
    let mut named: Vec<&str> = hosts.iter().take(6).map(String::as_str).collect();
    let more = hosts.len().saturating_sub(named.len());
    match lang {
        Lang::En => {
            let when = match &span {
                Some((d, f, l)) => format!(" over {d} ({f} .. {l})"),
                None => " (none with a time)".into(),
            };
            let from = if named.is_empty() {
                "from no named host".to_string()
            } else {
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                format!("from {}{more}", named.join(", "))
            };
            format!("No incident in {}{when} {from}", count_words(events, ("event", "events"), lang))
        }
        Lang::Ko => {
            let when = match &span {
                Some((d, f, l)) => format!(", {d} 동안 ({f} .. {l})"),
                None => ", 시각 없음".into(),
            };
            if more > 0 {
                named.push("…");
            }
            let from = if named.is_empty() { "host 이름 없음".to_string() } else { named.join(", ") };
            format!("incident 없음: {from}의 event {}개{when}", thousands(events))
        }
    }
}

fn cite(e: &Evidence) -> String {
    format!("{}:{}", e.path, e.line)
}

/// Renders `a` for a terminal.
pub fn render<'a>(a: &'a Analysis, lang: Lang) -> String {
    let l = match lang {
        Lang::Ko => &KO,
        Lang::En => &EN,
    };
    let mut o = String::new();
    let inp = &a.inputs;
    let pairs = |v: &'a [crate::analysis::Skipped]| v.iter().map(|s| (s.path.as_str(), s.reason.as_str()));
    if let Some(note) = inputs_note(pairs(&inp.skipped), pairs(&inp.warnings), inp.cut_lines, inp.max_line, lang) {
        let more = match lang {
            Lang::En => "details: --format json",
            Lang::Ko => "자세히: --format json",
        };
        let _ = writeln!(o, "rootline analyze: {note} ({more})");
    }
    let _ = writeln!(
        o,
        "rootline analyze: {} {} ({}, {}, {})",
        l.verdict,
        a.verdict.as_str(),
        count(a.inputs.files, "file"),
        count(a.inputs.events, "event"),
        count((a.findings.len() + a.omitted.as_ref().map_or(0, |m| m.findings)) as u64, "finding")
    );
    if a.incidents.is_empty() {
        let basis = no_incident_basis(inp.events, inp.first.as_deref(), inp.last.as_deref(), &a.hosts, lang);
        let _ = writeln!(o, "{basis}: {}", l.none);
        recovered(&mut o, a, lang);
        return o;
    }
    let by_id: HashMap<&str, &Finding> = a.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    let main = &a.incidents[0];
    incident(&mut o, main, &by_id, l, lang);
    if let Some(w) = &a.why_only_this_node {
        why_only(&mut o, w, l);
    }
    if let Some(s) = &a.seen_before {
        o.push('\n');
        o.push_str(&seen_before(s, lang));
    }
    let omitted = a.omitted.as_ref().filter(|m| m.incidents > 0);
    if a.incidents.len() > 1 || omitted.is_some() {
        let _ = writeln!(o, "\n{}:", l.others);
        // The repeats of one fault are one line: the worst of them, with how often it happened.
        let group = |i: &Incident| {
            i.recurrence
                .as_ref()
                .map(|r| (i.host.clone(), i.root_cause.signature.clone(), r.first.clone(), r.last.clone(), r.count))
        };
        let mut shown: Vec<_> = group(main).into_iter().collect();
        for i in &a.incidents[1..] {
            if let Some(g) = group(i) {
                if shown.contains(&g) {
                    continue;
                }
                shown.push(g);
            }
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
            if let Some(r) = &i.recurrence {
                let _ = writeln!(o, "      {}", recurs(r, lang));
            }
            if let Some(e) = i.root_cause.evidence.first() {
                let _ = writeln!(o, "      {}  {}", cite(e), cut(&e.text, 110));
            }
        }
        if let Some(m) = omitted {
            let head = match lang {
                Lang::En => format!(
                    "… {} more, not listed (--max-incidents 0 lists every one)",
                    count(m.incidents as u64, "incident")
                ),
                Lang::Ko => {
                    format!("… incident {}개 더 (모두 보려면 --max-incidents 0)", thousands(m.incidents as u64))
                }
            };
            let _ = writeln!(o, "  {head}:");
            for sg in m.signatures.iter().take(8) {
                let hosts = if sg.hosts.is_empty() { "-".to_string() } else { sg.hosts.join(",") };
                let _ = writeln!(
                    o,
                    "    {} x{} on {hosts}, {} .. {}",
                    sg.signature,
                    thousands(sg.count as u64),
                    sg.first.as_deref().unwrap_or("-"),
                    sg.last.as_deref().unwrap_or("-")
                );
            }
            if m.signatures.len() > 8 {
                let rest: usize = m.signatures[8..].iter().map(|x| x.count).sum();
                let _ = writeln!(
                    o,
                    "    … {} of {} more signatures",
                    count(rest as u64, "incident"),
                    thousands((m.signatures.len() - 8) as u64)
                );
            }
        }
    }
    recovered(&mut o, a, lang);
    let conflicts: Vec<_> = a.aliases.iter().flat_map(|h| h.conflicts.iter()).collect();
    if !conflicts.is_empty() {
        let _ = writeln!(o, "\n{}:", l.conflicts);
        for c in conflicts.iter().take(MAX_CONFLICTS_SHOWN) {
            let cites: Vec<String> = c.evidence.iter().map(cite).collect();
            let _ = writeln!(o, "  - {} [{}]", c.what, cites.join(", "));
        }
        if conflicts.len() > MAX_CONFLICTS_SHOWN {
            let _ = writeln!(
                o,
                "  - … {} more (see --format json)",
                thousands((conflicts.len() - MAX_CONFLICTS_SHOWN) as u64)
            );
        }
    }
    o
}

/// Most conflicts the text lists (the JSON has them all, up to [`crate::analysis::MAX_LIST`] a host).
const MAX_CONFLICTS_SHOWN: usize = 10;

fn incident(o: &mut String, i: &Incident, by_id: &HashMap<&str, &Finding>, l: &L, lang: Lang) {
    let rc = &i.root_cause;
    let _ = writeln!(o, "\n{} (confidence {:.2}, {}):", l.root, rc.confidence, rc.finding);
    let _ = writeln!(o, "  {}", rc.summary);
    let host = i.host.as_deref().unwrap_or("-");
    let episode = i.episode.map(|n| match lang {
        Lang::En => format!("episode {n} on {host}"),
        Lang::Ko => format!("{host}의 episode {n}"),
    });
    let recurrence = i.recurrence.as_ref().map(|r| {
        let nth = match lang {
            Lang::En => format!("; this is #{}", r.nth),
            Lang::Ko => format!("; 이번이 #{}", r.nth),
        };
        format!("{}{nth}", recurs(r, lang))
    });
    let said: Vec<String> = episode.into_iter().chain(recurrence).collect();
    if !said.is_empty() {
        let _ = writeln!(o, "  ({})", said.join("; "));
    }
    for e in rc.evidence.iter().take(4) {
        let _ = writeln!(o, "    {}: {}  {}", l.proof, cite(e), cut(&e.text, 110));
    }
    // The decisive links, in the chain's order (`order.rs`): the same links and order as the report.
    let pos = |id: &str| i.order.iter().position(|o| o == id).unwrap_or(usize::MAX);
    let mut depth: HashMap<&str, usize> = HashMap::new();
    let mut links: Vec<&crate::analysis::ChainLink> = i.chain.iter().filter(|c| c.decisive).collect();
    links.sort_by_key(|c| (pos(&c.effect), pos(&c.cause)));
    for c in &links {
        let d = depth.get(c.cause.as_str()).copied().unwrap_or(0) + 1;
        depth.insert(c.effect.as_str(), d);
    }
    let _ = writeln!(o, "\n{}:", l.chain);
    let links_shown = links.len();
    let mut onset_used = false;
    for c in links {
        let d = depth.get(c.cause.as_str()).copied().unwrap_or(1).saturating_sub(1).min(8);
        let (cf, ef) = (by_id.get(c.cause.as_str()), by_id.get(c.effect.as_str()));
        let pad = "  ".repeat(d + 1);
        // From when each condition began: an implied onset is marked `^`.
        let when = |f: Option<&&Finding>| match f {
            Some(f) if f.onset.is_some() => format!("{}^", hms(f.onset)),
            Some(f) => hms(f.first),
            None => hms(None),
        };
        onset_used |= cf.is_some_and(|f| f.onset.is_some()) || ef.is_some_and(|f| f.onset.is_some());
        let _ = writeln!(
            o,
            "{pad}{} {}{} -> {} {}{}",
            when(cf),
            c.cause,
            cf.map(|f| repeats(f)).unwrap_or_default(),
            when(ef),
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
        // An effect whose lines begin before its cause's: say why the link still holds.
        let (tc, te) = (cf.and_then(|f| f.began()), ef.and_then(|f| f.began()));
        if let (Some(tc), Some(te)) = (tc, te) {
            if te.unix_nanos < tc.unix_nanos {
                let gap = duration((tc.unix_nanos - te.unix_nanos) as f64 / 1e9);
                let why = if cf.is_some_and(|f| f.onset.is_some()) {
                    "the cause's report states only when it began at the latest"
                } else {
                    "the cause's first line is logged after the condition it reports began"
                };
                let _ = writeln!(o, "{pad}    (the effect's first line comes {gap} before the cause's: {why}; the link rests on the ties above)");
            }
        }
        if let Some(e) = ef.and_then(|f| f.evidence.first()) {
            let _ = writeln!(o, "{pad}    {}  {}", cite(e), cut(&e.text, 110));
        }
    }
    if onset_used {
        let _ = writeln!(o, "  (^ when the condition began, as its report implies: a hung-task report comes hung_task_timeout_secs after the task blocked)");
    }
    if i.chain.len() > links_shown {
        let more = (i.chain.len() - links_shown) as u64;
        let _ = writeln!(o, "  ({} allowed by the evidence: --format json)", count(more, "more link"));
    }
    if !i.alternatives.is_empty() {
        let _ = writeln!(o, "\n{}:", l.alts);
        for a in i.alternatives.iter().take(12) {
            let _ = writeln!(o, "  - {} ({:.2}): {}", a.finding, a.confidence, a.why_not);
        }
        if i.alternatives.len() > 12 {
            let _ = writeln!(o, "  - … {} more (see --format json)", i.alternatives.len() - 12);
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

/// Past cases like this incident (`seen_before`, from the case database): each with its score, its
/// reasons and what resolved it. Shared by `rootline analyze` and `rootline cases similar`.
pub fn seen_before(s: &crate::analysis::SeenBefore, lang: Lang) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}:",
        match lang {
            Lang::En => "Seen before (similar past cases; details: rootline cases show ID)",
            Lang::Ko => "이전에 본 적 있음 (비슷한 과거 case; 자세히: rootline cases show ID)",
        }
    );
    if s.matches.is_empty() {
        let _ = writeln!(
            o,
            "  {}",
            match lang {
                Lang::En => "no similar case stored (rootline cases similar --min-score 0 lists weaker matches)",
                Lang::Ko => "비슷한 case가 없습니다 (rootline cases similar --min-score 0 으로 약한 후보도 볼 수 있음)",
            }
        );
    }
    for m in &s.matches {
        let _ = writeln!(o, "  #{:<5} {:.2}  {}", m.case, m.score, cut(&m.title, 110));
        for r in &m.reasons {
            let _ = writeln!(o, "         {r}");
        }
        let (label, none) = match lang {
            Lang::En => ("resolution", "none recorded (rootline cases add ... --resolution TEXT)"),
            Lang::Ko => ("해결", "기록 없음 (rootline cases add ... --resolution TEXT)"),
        };
        let one_line = |r: &str| cut(&r.split_whitespace().collect::<Vec<_>>().join(" "), 200);
        let _ = writeln!(o, "         {label}: {}", m.resolution.as_deref().map_or(none.to_string(), one_line));
    }
    o
}

/// Transient faults that recovered by themselves: listed, never counted as incidents.
fn recovered(o: &mut String, a: &Analysis, lang: Lang) {
    if a.recovered.is_empty() {
        return;
    }
    let head = match lang {
        Lang::En => "Recovered by themselves (not incidents)",
        Lang::Ko => "스스로 복구됨 (incident 아님)",
    };
    let _ = writeln!(o, "\n{head}:");
    for r in &a.recovered {
        let lasted = r.lasted_secs.map(duration).unwrap_or_else(|| "-".into());
        let at = r.evidence.as_ref().map(|e| format!("  {}  {}", cite(e), cut(&e.text, 90))).unwrap_or_default();
        let _ = writeln!(
            o,
            "  - {} {} -> {} after {lasted}{at}",
            r.start.as_deref().unwrap_or("-"),
            r.findings.join(", "),
            r.recovery
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BINARY: &str = "binary file (NUL bytes in its first 8 KiB)";

    #[test]
    fn the_inputs_note_counts_kinds_with_plurals() {
        let skipped = [
            ("a", BINARY),
            ("b", "empty file"),
            ("c", BINARY),
            ("n/hostname", "read as bundle metadata (host name)"),
            ("README.md", "documentation (Markdown), not evidence"),
        ];
        let note = inputs_note(skipped, [], 0, 1 << 20, Lang::En).unwrap();
        assert_eq!(note, "3 inputs skipped: 2 binary files, 1 empty file");
        let note = inputs_note(skipped, [], 1, 1 << 20, Lang::En).unwrap();
        assert_eq!(note, "3 inputs skipped: 2 binary files, 1 empty file; 1 line cut to 1 MiB");
        let note = inputs_note(skipped, [], 3, 1 << 20, Lang::Ko).unwrap();
        assert_eq!(note, "건너뛴 입력 3개: 바이너리 파일 2개, 빈 파일 1개; 1 MiB보다 긴 줄 3개를 잘라서 읽음");
        // Files set aside on purpose, and cut-line warnings (counted, not listed): nothing to say.
        let cut = [("x.log", "line 4 is 2000 bytes long; cut to 1000 bytes")];
        assert_eq!(inputs_note(skipped[3..].iter().copied(), cut, 0, 1000, Lang::En), None);
    }

    #[test]
    fn the_inputs_note_names_inputs_read_in_part() {
        let w = [
            (
                "a.gz",
                "gzip stream cut short at byte 1,450 (incomplete deflate stream); kept the 97 lines read before it",
            ),
            ("a.gz", "cut after 10 decompressed bytes (limit)"),
            (
                "b.tar",
                "tar archive cut short at byte 2,048 (unexpected EOF during skip); kept the 3 lines read before it",
            ),
            ("c.xz", "xz stream damaged at byte 9 (corrupt data); kept the line read before it"),
        ];
        let note = inputs_note([], w, 2000, 1000, Lang::En).unwrap();
        assert_eq!(
            note,
            "2,000 lines cut to 1,000 bytes; 3 inputs read in part: a.gz (gzip stream cut short at byte 1,450 \
             (incomplete deflate stream); kept the 97 lines read before it); b.tar (tar archive cut short at byte \
             2,048 (unexpected EOF during skip); kept the 3 lines read before it) and 1 more"
        );
    }

    #[test]
    fn the_no_incident_basis_names_events_hours_and_hosts() {
        let hosts: Vec<String> = ["node-a", "node-b"].map(String::from).to_vec();
        let (f, l) = ("2025-10-13T10:00:00+09:00", "2025-10-13T13:12:00+09:00");
        assert_eq!(
            no_incident_basis(1234, Some(f), Some(l), &hosts, Lang::En),
            format!("No incident in 1,234 events over 3.2 h ({f} .. {l}) from node-a, node-b")
        );
        assert_eq!(
            no_incident_basis(1, None, None, &[], Lang::En),
            "No incident in 1 event (none with a time) from no named host"
        );
        let many: Vec<String> = (1..=8).map(|i| format!("n{i}")).collect();
        assert!(no_incident_basis(5, Some(f), Some(f), &many, Lang::En).ends_with(
            "over 0 s (2025-10-13T10:00:00+09:00 .. 2025-10-13T10:00:00+09:00) from n1, n2, n3, n4, n5, n6 and 2 more"
        ));
        assert_eq!(
            no_incident_basis(1234, Some(f), Some(l), &hosts, Lang::Ko),
            format!("incident 없음: node-a, node-b의 event 1,234개, 3.2 h 동안 ({f} .. {l})")
        );
    }
}
