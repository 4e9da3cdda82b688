//! `rootline fleet` over `examples/fleets/upgrade-wave`: the seed node ranks first, the peer whose path
//! flapped and recovered ranks below it, the seed's storage faults are seen on 1 of 8 nodes, and the
//! upgrade (the nova image change) is common to all nodes.

use super::support::root;
use serde_json::Value;

const SEED: &str = "s-dcn37-com604-krw1a";
const FLAP: &str = "s-dcn37-com608-krw1a";

fn fleet(args: &[&str]) -> (Option<i32>, String, String) {
    let out = crate::support::command().current_dir(root()).arg("fleet").args(args).output().expect("rootline runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let mut a = vec!["examples/fleets/upgrade-wave", "--json"];
    a.extend_from_slice(args);
    let (code, out, err) = fleet(&a);
    assert_eq!(code, Some(0), "{err}");
    serde_json::from_str(&out).expect("fleet JSON")
}

fn fact<'a>(list: &'a Value, kind: &str, what: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|f| f["kind"] == kind && f["what"] == what)
}

#[test]
fn the_seed_node_ranks_first_and_the_flapping_peer_below_it() {
    let v = json(&[]);
    assert_eq!(v["schema"], "rootline.fleet/v1");
    assert_eq!(v["nodes"], 8);
    assert_eq!(v["target"], SEED, "the most unusual node is the target");
    let ranking = v["ranking"].as_array().unwrap();
    assert_eq!(ranking.len(), 8);
    let pos = |h: &str| ranking.iter().position(|r| r["host"] == h).unwrap();
    assert_eq!(pos(SEED), 0);
    assert!(pos(FLAP) > pos(SEED));
    let (seed, flap) = (&ranking[pos(SEED)], &ranking[pos(FLAP)]);
    assert!(seed["score"].as_f64().unwrap() > 5.0 * flap["score"].as_f64().unwrap(), "{seed} vs {flap}");
    assert!(seed["reasons"].as_array().unwrap().iter().any(|r| r.as_str().unwrap().contains("multipath.stale-map")));
    let flap_reasons: Vec<&str> = flap["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(flap_reasons.iter().any(|r| r.contains("recovered: multipath.path-reinstated")), "{flap_reasons:?}");
    // Every node has a summary with its upgrade phases.
    for s in v["summaries"].as_array().unwrap() {
        assert!(
            s["phases"].as_array().unwrap().iter().any(|p| p["signature"] == "upgrade.image-changed"),
            "{}",
            s["name"]
        );
    }
}

#[test]
fn the_contrast_names_what_only_the_seed_showed_and_what_all_shared() {
    let v = json(&["--target", SEED]);
    let c = &v["contrast"];
    for sig in ["multipath.stale-map", "multipath.all-paths-down", "kernel.hung-task", "k8s.probe-failed"] {
        let f = fact(&c["only_target"], "signature", sig).unwrap_or_else(|| panic!("{sig} only on the target"));
        assert_eq!((f["seen_on"].as_u64(), f["of"].as_u64()), (Some(1), Some(8)), "{sig}");
        let e = &f["evidence"][0];
        assert!(e["path"].as_str().unwrap().contains(SEED) && e["line"].as_u64().unwrap() > 0, "{sig}: {e}");
    }
    // The path-down the flapping peer also showed is rare, not unique.
    let pd = fact(&c["only_target"], "signature", "multipath.path-down").expect("path-down listed as rare");
    assert_eq!(pd["seen_on"], 2);
    // The upgrade is common to every node: not the cause.
    for sig in ["upgrade.image-changed", "k8s.image-pulled", "k8s.container-started"] {
        let f = fact(&c["common"], "signature", sig).unwrap_or_else(|| panic!("{sig} common"));
        assert_eq!(f["seen_on"], 8);
    }
    let img = fact(&c["differences"], "version", "image docker.io/openstackhelm/nova:2025.1-ubuntu_jammy").unwrap();
    assert_eq!(img["seen_on"], 8);
    // The target's analysis carries the section, and its root cause is unchanged by the peers.
    let a = &v["analysis"];
    assert_eq!(a["incidents"][0]["root_cause"]["signature"], "multipath.stale-map");
    let w = &a["why_only_this_node"];
    assert_eq!(w["host"], SEED);
    assert_eq!(w["nodes"], 8);
    assert!(fact(&w["only_here"], "signature", "multipath.stale-map").is_some());
    let unknown: Vec<&str> =
        a["incidents"][0]["unknown"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
    assert!(!unknown.iter().any(|u| u.contains("no peer nodes")), "{unknown:?}");
}

#[test]
fn a_given_window_and_the_text_output() {
    // A window before anything broke: nothing rare on the seed node but templates; the upgrade is shared.
    let v = json(&["--since", "2025-10-13T19:00:00+09:00", "--until", "2025-10-13T19:50:00+09:00"]);
    assert_eq!(v["window"]["how"], "--since/--until");
    let first = &v["ranking"][0];
    assert!(first["score"].as_f64().unwrap() < 3.0, "no fault in that window: {first}");
    let (code, text, err) = fleet(&["examples/fleets/upgrade-wave"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(text.contains("Nodes, most unusual first"));
    assert!(text.contains("multipath.stale-map: seen on 1 of 8 nodes"), "{text}");
    assert!(text.contains("journalctl-short-iso.txt:"));
    assert!(text.contains("Common to all 8 nodes"));
    let (code, _, err) = fleet(&["examples/fleets/upgrade-wave", "--target", "nope"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no such node"));
}
