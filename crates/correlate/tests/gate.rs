//! The alias learner's gate turns events down before they reach the learner (on another thread, so
//! most events are never copied): it must never turn down an event the learner learns from. Every
//! regression bundle is learnt twice, every event fed whole and only the events the gate admits,
//! and the graphs must be the same edges with the same evidence.

use rootline_correlate::alias::{Gate, Learner};
use rootline_rules::Pack;

fn edges(l: Learner) -> Vec<String> {
    let mut out: Vec<String> = l
        .finish()
        .into_iter()
        .flat_map(|(h, g)| {
            g.edges().map(move |e| format!("{h:?} {} ~ {} ({}) {}", e.a, e.b, e.relation, e.cite())).collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_gate_admits_every_event_the_learner_learns_from() {
    let ties = Pack::builtin().unwrap().ties;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut dirs: Vec<std::path::PathBuf> = ["incidents", "fleets/upgrade-wave"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap().filter_map(|e| e.ok().map(|e| e.path())))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 5, "{dirs:?}");
    let opts = rootline_ingest::Options::default();
    for dir in dirs {
        let gate = Gate::with_ties(ties.clone());
        let (mut all, mut gated) = (Learner::with_ties(ties.clone()), Learner::with_ties(ties.clone()));
        let mut admitted = 0usize;
        let mut events = rootline_ingest::read(std::slice::from_ref(&dir), &opts).into_events();
        while let Some(r) = events.next_ref() {
            let ev = r.to_event();
            all.feed_wanted(&ev);
            if gate.wants(&r) {
                admitted += 1;
                gated.feed_wanted(&ev);
            }
        }
        let (a, g) = (edges(all), edges(gated));
        assert!(!a.is_empty() || admitted == 0, "{}: a graph", dir.display());
        let missing: Vec<&String> = a.iter().filter(|e| !g.contains(e)).collect();
        assert!(missing.is_empty(), "{}: the gate turned down the lines of {missing:#?}", dir.display());
        assert_eq!(a.len(), g.len(), "{}", dir.display());
    }
}
