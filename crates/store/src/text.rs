//! The text outputs of `rootline cases`: the list, one case, a search's answer.

use std::fmt::Write;

use rootline_rules::{Lang, Pack};

use crate::backend::Summary;
use crate::case::Case;
use crate::similar::Found;

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Columns a character takes in a terminal: 2 for East Asian wide characters (Hangul, CJK), else 1.
fn char_width(c: char) -> usize {
    let wide = matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF |
        0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6);
    if wide {
        2
    } else {
        1
    }
}

/// `s` padded with spaces to `cols` terminal columns (Korean labels take two columns a letter).
fn pad(s: &str, cols: usize) -> String {
    let w: usize = s.chars().map(char_width).sum();
    format!("{s}{}", " ".repeat(cols.saturating_sub(w)))
}

fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// `rootline cases list`: one line per case.
pub fn list(cases: &[Summary], lang: Lang) -> String {
    let mut o = String::new();
    if cases.is_empty() {
        let _ = writeln!(
            o,
            "{}",
            match lang {
                Lang::En => "No case stored yet: rootline cases add ANALYSIS.json|PATH...",
                Lang::Ko => "저장된 case가 없습니다: rootline cases add ANALYSIS.json|PATH...",
            }
        );
        return o;
    }
    let w = cases.iter().map(|c| c.id.to_string().len()).max().unwrap_or(1) + 1;
    let hw = cases.iter().map(|c| c.host.as_deref().unwrap_or("-").len()).max().unwrap_or(1).min(32);
    let sw = cases.iter().map(|c| c.signature.len()).max().unwrap_or(1).min(40);
    for c in cases {
        let resolved = match (c.resolution.as_deref().is_some_and(|r| !r.trim().is_empty()), lang) {
            (true, Lang::En) => "resolved",
            (true, Lang::Ko) => "해결됨",
            (false, _) => "-",
        };
        let _ = writeln!(
            o,
            "{:<w$} {}  {:<hw$}  {:<sw$}  {}  {}",
            format!("#{}", c.id),
            c.start.as_deref().and_then(|s| s.get(..10)).unwrap_or("----------"),
            cut(c.host.as_deref().unwrap_or("-"), 32),
            cut(&c.signature, 40),
            pad(resolved, 8),
            cut(&one_line(&c.title), 100),
        );
    }
    o
}

/// `rootline cases show ID`: everything a case keeps.
pub fn show(c: &Case, pack: &Pack, lang: Lang) -> String {
    let ko = lang == Lang::Ko;
    let mut o = String::new();
    let rc = &c.root_cause;
    let _ = writeln!(o, "#{} {}", c.id.unwrap_or(0), one_line(&c.title));
    let row = |o: &mut String, k: &str, v: &str| {
        let _ = writeln!(o, "  {} {v}", pad(k, 13));
    };
    let title = pack.get(&rc.signature).map(|s| s.title.get(lang).trim().to_string());
    row(
        &mut o,
        if ko { "근본 원인" } else { "root cause" },
        &match title {
            Some(t) => format!("{} ({t}), confidence {:.2}", rc.signature, rc.confidence),
            None => format!("{}, confidence {:.2}", rc.signature, rc.confidence),
        },
    );
    row(&mut o, "host", c.host.as_deref().unwrap_or("-"));
    row(
        &mut o,
        if ko { "시간" } else { "when" },
        &format!("{} .. {}", c.start.as_deref().unwrap_or("-"), c.end.as_deref().unwrap_or("-")),
    );
    row(&mut o, "verdict", &c.verdict);
    row(
        &mut o,
        if ko { "해결" } else { "resolution" },
        &c.resolution.as_deref().map(one_line).unwrap_or_else(|| "-".into()),
    );
    row(
        &mut o,
        if ko { "조치한 사람" } else { "fixed by" },
        &c.fixed_by.as_deref().map(one_line).unwrap_or_else(|| "-".into()),
    );
    row(&mut o, if ko { "저장" } else { "added" }, c.added.as_deref().unwrap_or("-"));
    if let Some(s) = &c.source {
        row(&mut o, if ko { "출처" } else { "source" }, s);
    }
    row(&mut o, "key", &c.key);
    let _ = writeln!(o, "\n{}", one_line(&rc.summary));
    for e in &rc.evidence {
        let _ = writeln!(o, "    {}:{}  {}", e.path, e.line, cut(&e.text, 110));
    }
    if !c.chain.is_empty() {
        let _ = writeln!(
            o,
            "\n{}:",
            if ko { "인과 사슬 (원인 -> 결과, 연결 수)" } else { "Chain (cause -> effect, links)" }
        );
        for p in &c.chain {
            let _ = writeln!(o, "  {} -> {}  x{}", p.cause, p.effect, p.links);
        }
    }
    let _ = writeln!(
        o,
        "\n{} ({}): {}",
        if ko { "signature" } else { "Signatures" },
        c.signatures.len(),
        c.signatures.join(", ")
    );
    let _ = writeln!(o, "{}: {}", if ko { "entity 종류" } else { "Entity kinds" }, c.entity_kinds.join(", "));
    let _ = writeln!(o, "{}: {}", if ko { "로그 template" } else { "Log templates" }, c.templates.len());
    if !c.changes.is_empty() {
        let _ = writeln!(
            o,
            "\n{}:",
            if ko { "첫 fault 전의 변경 (context)" } else { "Changed before the first fault (context)" }
        );
        for ch in &c.changes {
            let before = ch
                .before_first_fault_secs
                .map(|s| if ko { format!(" ({s:.0}초 전)") } else { format!(" ({s:.0} s before)") })
                .unwrap_or_default();
            let _ = writeln!(o, "  - {}: {}{before}", ch.signature, one_line(&ch.summary));
        }
    }
    if let Some(f) = &c.fleet {
        let rank = f.rank.map(|r| format!(", ranked {r} of {}", f.nodes)).unwrap_or_default();
        let _ = writeln!(
            o,
            "\n{}: {} {}{rank}",
            if ko { "fleet 비교" } else { "Fleet comparison" },
            f.target,
            if ko { "대상" } else { "explained" }
        );
        for (i, r) in f.ranking.iter().enumerate() {
            let _ = writeln!(o, "  {}. {} {:.2}", i + 1, r.host, r.score);
        }
        if !f.only_here.is_empty() {
            let _ =
                writeln!(o, "  {}: {}", if ko { "이 노드에만" } else { "only on this node" }, f.only_here.join(", "));
        }
    }
    o
}

/// `rootline cases similar`: how many were searched (of `stored`), then the matches.
pub fn similar(found: &Found, stored: u64, lang: Lang) -> String {
    let mut o = match lang {
        Lang::En => format!(
            "{} stored, {} scored, {} similar\n\n",
            count(stored, "case"),
            found.scored,
            found.similar.matches.len()
        ),
        Lang::Ko => format!(
            "저장된 case {}개 중 {}개 비교, 비슷한 case {}개\n\n",
            stored,
            found.scored,
            found.similar.matches.len()
        ),
    };
    o.push_str(&rootline_correlate::text::seen_before(&found.similar, lang));
    o
}

fn count(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_labels_are_padded_by_their_columns() {
        assert_eq!(pad("해결됨", 8), "해결됨  ");
        assert_eq!(pad("resolved", 8), "resolved");
        assert_eq!(pad("조치한 사람", 13), "조치한 사람  ");
    }
}
