//! Similar past cases, with the reasons of each score.
//!
//! **The score** of a past case against the incident at hand is a weighted mean of how much each
//! group of features ([`crate::features`]) agrees, in [0, 1]:
//!
//! | group | weight | agreement |
//! |---|---|---|
//! | root cause | 0.30 | 1 for the same signature, 0.5 for another of the same family, else 0 |
//! | chain shape | 0.25 | Jaccard index of the (cause, effect) signature pairs |
//! | signatures | 0.15 | Jaccard index of the incidents' signatures |
//! | log templates | 0.15 | Jaccard index of the template hashes |
//! | entity kinds | 0.10 | Jaccard index of the kinds (map, session, pod, ...) |
//! | changes before | 0.05 | Jaccard index of the change signatures (an upgrade's image change, ...) |
//!
//! A group that neither side has (two incidents without a chain, neither after a change) is left
//! out of the mean, so the same incident twice scores 1 whatever it holds. Each reason states what
//! the two share and its share of the score (`(+0.30)`); the shares add up to the score. A stored
//! case that is the incident at hand itself (the same key: analysed again after it was added) says
//! so first, in a reason without a share.
//!
//! **The search** does not score every stored case. It takes the query's features from the rarest
//! (fewest cases, as `rootline_feature_df` counts them) to the commonest, until their index entries
//! reach [`POSTING_BUDGET`] (the last feature's latest cases only), reads those entries in one go, and
//! counts, for each case met, the weight of the features it shares. The [`CANDIDATES`] cases with the
//! most weight among the features read whole (the partly read one breaks ties) are scored exactly
//! from their feature blobs; the best [`Options::top`] at or above
//! [`Options::min_score`] are explained from their documents. A case that shares no feature with the
//! query scores 0 and is never met; with fewer index entries than the budget, every case that shares
//! one is scored, so the answer is exact ([`Options::exhaustive`] lifts both bounds).

use std::collections::HashMap;

use rootline_correlate::{PastCase, SeenBefore, SIMILAR_SCHEMA};
use rootline_rules::Lang;

use crate::backend::Backend;
use crate::case::Case;
use crate::features::{pair_value, shared, Features, Group};
use crate::Error;

/// Index entries read per search at most.
pub const POSTING_BUDGET: usize = 50_000;
/// Cases scored exactly per search at most.
pub const CANDIDATES: usize = 1_000;

/// The weight of each scored group (the family is part of the root cause's).
pub const WEIGHTS: [(Group, f64); 6] = [
    (Group::Root, 0.30),
    (Group::Pairs, 0.25),
    (Group::Signatures, 0.15),
    (Group::Templates, 0.15),
    (Group::Kinds, 0.10),
    (Group::Changes, 0.05),
];

/// What to return, and how much to read.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Matches at most.
    pub top: usize,
    /// Matches below this score are left out.
    pub min_score: f64,
    /// Index entries read at most ([`POSTING_BUDGET`]).
    pub budget: usize,
    /// Cases scored exactly at most ([`CANDIDATES`]).
    pub candidates: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { top: 5, min_score: 0.3, budget: POSTING_BUDGET, candidates: CANDIDATES }
    }
}

impl Options {
    /// No bound on what is read and scored: every case that shares a feature is scored (slow on a
    /// large database; for checking what the bounds cost).
    pub fn exhaustive(self) -> Options {
        Options { budget: usize::MAX, candidates: usize::MAX, ..self }
    }
}

/// One group's part of a score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Part {
    /// The group.
    pub group: Group,
    /// Its share of the score.
    pub share: f64,
    /// Features the two have in common.
    pub common: usize,
    /// Features either has.
    pub union: usize,
}

/// A score and its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakdown {
    /// In [0, 1].
    pub score: f64,
    /// Per group present on either side.
    pub parts: Vec<Part>,
}

/// Scores past case `c` against query `q`.
pub fn score(q: &Features, c: &Features) -> Breakdown {
    let mut raw = Vec::with_capacity(WEIGHTS.len());
    for (g, w) in WEIGHTS {
        let (agree, common, union) = if g == Group::Root {
            let same = |g: Group| !q.set(g).is_empty() && q.set(g) == c.set(g);
            if same(Group::Root) {
                (1.0, 1, 1)
            } else if same(Group::Family) {
                (0.5, 0, 2)
            } else {
                (0.0, 0, 2)
            }
        } else {
            let (a, b) = (q.set(g), c.set(g));
            let common = shared(a, b);
            let union = a.len() + b.len() - common;
            if union == 0 {
                continue;
            }
            (common as f64 / union as f64, common, union)
        };
        raw.push((g, w, agree, common, union));
    }
    let total: f64 = raw.iter().map(|r| r.1).sum();
    let parts: Vec<Part> = raw
        .into_iter()
        .map(|(group, w, agree, common, union)| Part { group, share: w * agree / total, common, union })
        .collect();
    let score = parts.iter().map(|p| p.share).sum::<f64>().clamp(0.0, 1.0);
    Breakdown { score, parts }
}

/// How a search went.
#[derive(Debug, Clone)]
pub struct Found {
    /// The answer (`rootline.similar/v1`).
    pub similar: SeenBefore,
    /// Cases scored exactly.
    pub scored: usize,
    /// Index entries read.
    pub entries: usize,
}

/// The weight one feature adds to a case that shares it, for choosing whom to score.
fn weight(g: Group, q: &Features) -> f64 {
    match g {
        Group::Root => 0.30,
        Group::Family => 0.15,
        _ => {
            let w = WEIGHTS.iter().find(|w| w.0 == g).map_or(0.0, |w| w.1);
            w / q.set(g).len().max(1) as f64
        }
    }
}

/// The cases most like `query`, best first, each with its reasons.
pub fn search(db: &mut dyn Backend, query: &Case, opts: &Options, lang: Lang) -> Result<Found, Error> {
    let qf = Features::of(query);
    let keys = qf.keys();
    let df = db.df(&keys)?;
    // Rarest first; among equals, the heavier group first, then the hash (a stable order).
    let mut order: Vec<(u64, f64, i64)> =
        qf.all().filter_map(|(g, h)| df.get(&(h as i64)).map(|&n| (n, weight(g, &qf), h as i64))).collect();
    order.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
    // Which features to read whole, and the one read in part, from their case counts.
    let (mut full, mut partial, mut left) = (Vec::new(), None, opts.budget);
    let mut weights: HashMap<i64, f64> = HashMap::new();
    for (n, w, f) in order {
        if left == 0 {
            break;
        }
        weights.insert(f, w);
        if n as usize <= left {
            full.push(f);
            left -= n as usize;
        } else {
            partial = Some((f, left));
            left = 0;
        }
    }
    let part = partial.map(|p| p.0);
    let entries = db.postings(&full, partial)?;
    // Per case met: the weight of the features read whole that it shares, and with the partly read
    // one. Whether a case has a feature not read whole is unknown, so each case may still have all
    // of them: the weight read whole orders the candidates (a bound on what the rest can add is the
    // same for every case), the partly read feature only breaks its ties. A case met through rare
    // features is thus never pushed out by the latest cases of a common one.
    let mut acc: HashMap<i64, (f64, f64)> = HashMap::new();
    for (f, id) in &entries {
        let w = weights.get(f).copied().unwrap_or(0.0);
        let a = acc.entry(*id).or_default();
        if Some(*f) != part {
            a.0 += w;
        }
        a.1 += w;
    }
    let entries = entries.len();
    let mut cands: Vec<(i64, (f64, f64))> = acc.into_iter().collect();
    cands.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0).then(b.1 .1.total_cmp(&a.1 .1)).then(b.0.cmp(&a.0)));
    cands.truncate(opts.candidates);
    let ids: Vec<i64> = cands.iter().map(|c| c.0).collect();
    let mut scored: Vec<(i64, Breakdown)> = db
        .shapes(&ids)?
        .into_iter()
        .filter_map(|(id, blob)| Features::from_blob(&blob).map(|f| (id, score(&qf, &f))))
        .collect();
    let n_scored = scored.len();
    scored.retain(|s| s.1.score >= opts.min_score && s.1.score > 0.0);
    scored.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(b.0.cmp(&a.0)));
    scored.truncate(opts.top);
    let docs: HashMap<i64, Case> = db
        .cases(&scored.iter().map(|s| s.0).collect::<Vec<_>>())?
        .into_iter()
        .filter_map(|c| Some((c.id?, c)))
        .collect();
    let matches = scored
        .into_iter()
        .filter_map(|(id, b)| {
            let c = docs.get(&id)?;
            let mut why = reasons(query, c, &b, lang);
            // An incident already added (analysed again after `cases add`) is not a recurrence.
            if !query.key.is_empty() && c.key == query.key {
                why.insert(0, same_incident(lang).to_string());
            }
            Some(PastCase {
                case: id,
                title: c.title.clone(),
                score: round3(b.score),
                reasons: why,
                resolution: c.resolution.clone(),
            })
        })
        .collect();
    Ok(Found { similar: SeenBefore { schema: SIMILAR_SCHEMA, matches }, scored: n_scored, entries })
}

/// The first reason of a stored case that is the incident at hand itself (the same content key:
/// the same host, times, root cause and evidence); it has no share of the score.
pub fn same_incident(lang: Lang) -> &'static str {
    match lang {
        Lang::En => {
            "this very incident, already stored as this case (the same host, times and evidence): not a recurrence"
        }
        Lang::Ko => "바로 이 incident: 이 case로 이미 저장됨 (host, 시각, 증거가 같음): 재발이 아님",
    }
}

/// Two decimals, halves rounded up (`0.125` is `0.13`, whatever the float's last bit says).
pub fn two(x: f64) -> String {
    format!("{:.2}", (x * 100.0 + 1e-9).round() / 100.0)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Up to `n` items of a list, then `(+k more)`.
fn some(items: &[String], n: usize, lang: Lang) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        s.push_str(&match lang {
            Lang::En => format!(" and {} more", items.len() - n),
            Lang::Ko => format!(" 외 {}개", items.len() - n),
        });
    }
    s
}

/// The sentences that explain `b`, one per group with a share of at least 0.005, in the order of
/// [`WEIGHTS`].
pub fn reasons(q: &Case, c: &Case, b: &Breakdown, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    let ko = lang == Lang::Ko;
    for p in &b.parts {
        // A share that shows as +0.00 explains nothing.
        if two(p.share) == "0.00" {
            continue;
        }
        let share = format!(" (+{})", two(p.share));
        let text = match p.group {
            Group::Root if p.common == 1 => {
                let s = &q.root_cause.signature;
                if ko {
                    format!("같은 근본 원인: {s}")
                } else {
                    format!("same root cause: {s}")
                }
            }
            Group::Root => {
                let (f, s) = (&q.root_cause.family, &c.root_cause.signature);
                if ko {
                    format!("같은 family ({f}), 다른 근본 원인: {s}")
                } else {
                    format!("same family ({f}), another root cause: {s}")
                }
            }
            Group::Pairs => {
                // The shared pairs, those from this incident's root cause first.
                let theirs: std::collections::BTreeSet<String> =
                    c.chain.iter().map(|x| pair_value(&x.cause, &x.effect)).collect();
                let mut common: Vec<&crate::case::Pair> =
                    q.chain.iter().filter(|x| theirs.contains(&pair_value(&x.cause, &x.effect))).collect();
                common.sort_by_key(|x| (x.cause != q.root_cause.signature, x.cause.clone(), x.effect.clone()));
                let shown: Vec<String> = common.iter().map(|x| format!("{} -> {}", x.cause, x.effect)).collect();
                if ko {
                    format!("인과 사슬: 원인 -> 결과 쌍 {}/{}개 공통 ({})", p.common, p.union, some(&shown, 2, lang))
                } else {
                    format!(
                        "chain: {} of {} cause -> effect pairs in common ({})",
                        p.common,
                        p.union,
                        some(&shown, 2, lang)
                    )
                }
            }
            Group::Signatures => {
                let only = |a: &Case, b: &Case| -> Vec<String> {
                    a.signatures.iter().filter(|s| !b.signatures.contains(s)).cloned().collect()
                };
                let (here, there) = (only(q, c), only(c, q));
                let mut s = if ko {
                    format!("signature {}/{}개 공통", p.common, p.union)
                } else {
                    format!("signatures: {} of {} in common", p.common, p.union)
                };
                if !here.is_empty() {
                    s.push_str(&if ko {
                        format!("; 이번에만: {}", some(&here, 3, lang))
                    } else {
                        format!("; only here: {}", some(&here, 3, lang))
                    });
                }
                if !there.is_empty() {
                    s.push_str(&if ko {
                        format!("; 그때만: {}", some(&there, 3, lang))
                    } else {
                        format!("; only then: {}", some(&there, 3, lang))
                    });
                }
                s
            }
            Group::Templates => {
                if ko {
                    format!("로그 template {}/{}개 공통", p.common, p.union)
                } else {
                    format!("log templates: {} of {} in common", p.common, p.union)
                }
            }
            Group::Kinds => {
                let common: Vec<String> =
                    q.entity_kinds.iter().filter(|k| c.entity_kinds.contains(k)).cloned().collect();
                if ko {
                    format!("공통 entity 종류: {}", some(&common, 8, lang))
                } else {
                    format!("entity kinds in common: {}", some(&common, 8, lang))
                }
            }
            Group::Changes => {
                let theirs: Vec<&str> = c.changes.iter().map(|x| x.signature.as_str()).collect();
                let mut common: Vec<String> =
                    q.changes.iter().map(|x| x.signature.clone()).filter(|s| theirs.contains(&s.as_str())).collect();
                common.sort();
                common.dedup();
                if ko {
                    format!("둘 다 host 변경 뒤에 발생: {}", some(&common, 3, lang))
                } else {
                    format!("both came after changes on the host: {}", some(&common, 3, lang))
                }
            }
            Group::Family => continue,
        };
        out.push(text + &share);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Change, Pair, Root};

    fn case(
        root: &str,
        pairs: &[(&str, &str)],
        sigs: &[&str],
        kinds: &[&str],
        templates: &[&str],
        changes: &[&str],
    ) -> Case {
        let sorted = |v: &[&str]| {
            let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        };
        Case {
            schema: crate::case::SCHEMA.into(),
            id: None,
            key: String::new(),
            title: "t".into(),
            resolution: None,
            fixed_by: None,
            added: None,
            source: None,
            host: None,
            start: None,
            end: None,
            verdict: "root_cause_found".into(),
            root_cause: Root {
                signature: root.into(),
                family: crate::case::family(root).into(),
                confidence: 0.8,
                summary: String::new(),
                entities: Default::default(),
                evidence: vec![],
            },
            signatures: sorted(sigs),
            chain: pairs.iter().map(|(a, b)| Pair { cause: a.to_string(), effect: b.to_string(), links: 1 }).collect(),
            entity_kinds: sorted(kinds),
            templates: sorted(templates),
            changes: changes
                .iter()
                .map(|s| Change { signature: s.to_string(), summary: String::new(), before_first_fault_secs: None })
                .collect(),
            fleet: None,
        }
    }

    #[test]
    fn the_same_incident_scores_one_and_shares_add_up() {
        let a = case(
            "multipath.stale-map",
            &[("multipath.all-paths-down", "multipath.stale-map")],
            &["multipath.stale-map"],
            &["map"],
            &["t1"],
            &[],
        );
        let b = score(&Features::of(&a), &Features::of(&a));
        assert!((b.score - 1.0).abs() < 1e-9, "{b:?}");
        // No changes on either side: that group is not part of the mean.
        assert!(b.parts.iter().all(|p| p.group != Group::Changes));
        let lone = case("kernel.hung-task", &[], &["kernel.hung-task"], &["pid"], &[], &[]);
        assert!((score(&Features::of(&lone), &Features::of(&lone)).score - 1.0).abs() < 1e-9);
    }

    #[test]
    fn root_cause_then_family_then_nothing() {
        let q = case("multipath.stale-map", &[], &["multipath.stale-map"], &["map"], &[], &[]);
        let same_family = case("multipath.all-paths-down", &[], &["multipath.all-paths-down"], &["map"], &[], &[]);
        let other = case("k8s.probe-failed", &[], &["k8s.probe-failed"], &["pod"], &[], &[]);
        let s = |c: &Case| score(&Features::of(&q), &Features::of(c));
        let (a, b) = (s(&same_family), s(&other));
        assert!(a.score > b.score && b.score == 0.0, "{a:?} {b:?}");
        let r = reasons(&q, &same_family, &a, Lang::En);
        assert_eq!(r[0], "same family (multipath), another root cause: multipath.all-paths-down (+0.27)");
        assert!(r[1].starts_with("entity kinds in common: map"), "{r:?}");
    }

    #[test]
    fn reasons_name_what_is_shared_and_their_shares_sum_to_the_score() {
        let q = case(
            "multipath.stale-map",
            &[("multipath.all-paths-down", "multipath.stale-map"), ("multipath.stale-map", "kernel.hung-task")],
            &["kernel.hung-task", "multipath.all-paths-down", "multipath.stale-map", "k8s.crash-loop"],
            &["map", "pod"],
            &["t1", "t2"],
            &["upgrade.image-changed"],
        );
        let c = case(
            "multipath.stale-map",
            &[("multipath.stale-map", "kernel.hung-task")],
            &["kernel.hung-task", "multipath.stale-map"],
            &["map"],
            &["t2", "t3"],
            &["upgrade.image-changed", "multipath.map-added"],
        );
        let b = score(&Features::of(&q), &Features::of(&c));
        let r = reasons(&q, &c, &b, Lang::En);
        assert_eq!(r.len(), 6, "{r:?}");
        assert!(r[0].starts_with("same root cause: multipath.stale-map (+0.30)"), "{r:?}");
        assert_eq!(
            r[1],
            "chain: 1 of 2 cause -> effect pairs in common (multipath.stale-map -> kernel.hung-task) (+0.13)"
        );
        assert_eq!(r[2], "signatures: 2 of 4 in common; only here: k8s.crash-loop, multipath.all-paths-down (+0.08)");
        assert_eq!(r[3], "log templates: 1 of 3 in common (+0.05)");
        assert_eq!(r[4], "entity kinds in common: map (+0.05)");
        assert_eq!(r[5], "both came after changes on the host: upgrade.image-changed (+0.03)");
        let sum: f64 = b.parts.iter().map(|p| p.share).sum();
        assert!((sum - b.score).abs() < 1e-9);
        let ko = reasons(&q, &c, &b, Lang::Ko);
        assert!(ko[0].starts_with("같은 근본 원인"), "{ko:?}");
    }
}
