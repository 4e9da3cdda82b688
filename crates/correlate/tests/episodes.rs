//! A node that fails again and again: one incident per episode, the repeats counted, nothing
//! linked across a quiet gap; and a big analysis cut to its first incidents.

use rootline_correlate::Correlator;
use rootline_event::{Event, Format, Provenance, Timestamp};
use rootline_rules::{Engine, Lang, Pack};

fn line(n: u64, secs: i64, program: &str, msg: &str) -> Event {
    let mut ev = Event::new(Format::Syslog, Provenance::new("messages", n, 0));
    ev.host = Some("cmp-7".into());
    ev.program = Some(program.into());
    ev.time = Some(Timestamp::from_unix_nanos(secs * 1_000_000_000, 0));
    ev.set_message(msg.as_bytes());
    ev
}

/// The same map loses its paths three times at `starts` (seconds), each time with a hung task after it.
fn outages_at(starts: [i64; 3]) -> Vec<Event> {
    let mut evs = Vec::new();
    for (k, t) in starts.into_iter().enumerate() {
        let n = k as u64 * 10;
        evs.push(line(n + 1, t, "multipathd", "mpatha: sdc - tur checker reports path is down"));
        evs.push(line(n + 2, t + 5, "multipathd", "mpatha: remaining active paths: 0"));
        evs.push(line(n + 3, t + 300, "kernel", "INFO: task jbd2/dm-3-8:4242 blocked for more than 120 seconds."));
    }
    // The map's name, number and path, as `multipath -ll` prints them.
    evs.push(line(99, starts[2] + 600, "multipath", "mpatha (3600a0980383030) dm-3 NETAPP,LUN"));
    evs
}

/// Three outages, hours apart.
fn outages() -> Vec<Event> {
    outages_at([0, 5 * 3600, 11 * 3600])
}

fn analyse(evs: &[Event]) -> rootline_correlate::Analysis {
    let engine = Engine::new(Pack::builtin().unwrap());
    let mut c = Correlator::new(&engine);
    for ev in evs {
        c.feed(ev);
    }
    c.finish(&Default::default(), Lang::En)
}

#[test]
fn each_outage_is_an_incident_of_its_own_and_the_repeats_are_counted() {
    let a = analyse(&outages());
    let on_map: Vec<_> = a
        .incidents
        .iter()
        .filter(|i| i.root_cause.signature.starts_with("multipath.") && i.root_cause.entities.contains_key("map"))
        .collect();
    assert_eq!(on_map.len(), 3, "{:#?}", a.incidents.iter().map(|i| &i.root_cause.summary).collect::<Vec<_>>());
    let mut episodes: Vec<u32> = on_map.iter().filter_map(|i| i.episode).collect();
    episodes.sort();
    assert_eq!(episodes, vec![1, 2, 3]);
    for i in &on_map {
        let r = i.recurrence.as_ref().expect("the same fault three times");
        assert_eq!(r.count, 3);
        assert_eq!(r.span_secs, 11.0 * 3600.0);
        // No finding of an incident lies in another episode: nothing links across the gaps.
        let start = i.start.as_deref().unwrap().parse::<jiff::Timestamp>().unwrap();
        let end = i.end.as_deref().unwrap().parse::<jiff::Timestamp>().unwrap();
        assert!(end.as_second() - start.as_second() < 3600, "{:?} .. {:?}", i.start, i.end);
    }
    let nth: Vec<usize> = {
        let mut v: Vec<usize> = on_map.iter().map(|i| i.recurrence.as_ref().unwrap().nth).collect();
        v.sort();
        v
    };
    assert_eq!(nth, vec![1, 2, 3]);
    let text = rootline_correlate::text::render(&a, Lang::En);
    assert!(text.contains("the same fault 3 times in 11.0 h"), "{text}");
}

#[test]
fn one_episode_when_the_gap_is_never_long_enough() {
    // The same outages 30 minutes apart: one episode, one finding per signature and object.
    let evs = outages_at([0, 1800, 3600]);
    let a = analyse(&evs);
    assert!(a.incidents.iter().all(|i| i.episode.is_none() && i.recurrence.is_none()));
    assert_eq!(a.findings.iter().filter(|f| f.signature == "multipath.all-paths-down").count(), 1);
}

#[test]
fn a_big_analysis_keeps_its_first_incidents_and_counts_the_rest() {
    let mut a = analyse(&outages());
    let total_findings = a.findings.len();
    let incidents = a.incidents.len();
    assert!(incidents >= 3);
    let verdict = a.verdict;
    a.limit(1);
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.verdict, verdict);
    let om = a.omitted.as_ref().expect("something left out");
    assert_eq!(om.incidents, incidents - 1);
    assert_eq!(om.signatures.iter().map(|s| s.count).sum::<usize>(), incidents - 1);
    assert_eq!(a.findings.len() + om.findings, total_findings);
    // Every finding still listed is one the kept incident, a change or a recovery refers to.
    let kept = &a.incidents[0];
    for f in &a.findings {
        assert!(
            kept.findings.contains(&f.id) || f.kind == rootline_rules::Kind::Recovery,
            "{} listed without a reason",
            f.id
        );
    }
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["omitted"]["incidents"], serde_json::json!(incidents - 1));
    let text = rootline_correlate::text::render(&a, Lang::En);
    assert!(
        text.contains(&format!("… {} more, not listed", rootline_event::count((incidents - 1) as u64, "incident"))),
        "{text}"
    );
    // 0 keeps everything.
    let mut b = analyse(&outages());
    b.limit(0);
    assert!(b.omitted.is_none());
    assert_eq!(b.incidents.len(), incidents);
}

#[test]
fn listing_fewer_incidents_builds_the_same_first_ones() {
    let engine = Engine::new(Pack::builtin().unwrap());
    let with = |max: usize| {
        let mut c = Correlator::new(&engine);
        for ev in &outages() {
            c.feed(ev);
        }
        c.finish_with(&Default::default(), Lang::En, max)
    };
    let mut all = analyse(&outages());
    all.limit(1);
    let one = with(1);
    assert_eq!(serde_json::to_value(&one).unwrap(), serde_json::to_value(&all).unwrap());
    assert_eq!(one.incidents.len(), 1);
}

/// The rejected links of a limited analysis are those both of whose ends it still lists; the
/// rest are counted.
#[test]
fn a_limited_analysis_keeps_the_rejected_links_of_what_it_lists_and_counts_the_rest() {
    let mut evs = outages();
    // A task blocked on a device nothing ties to the map: a link rejected in each episode.
    for (k, t) in [0i64, 5 * 3600, 11 * 3600].into_iter().enumerate() {
        evs.push(line(
            200 + k as u64,
            t + 200,
            "kernel",
            "INFO: task kworker/u8:2:77 blocked for more than 120 seconds.",
        ));
    }
    evs.sort_by_key(|e| e.time.map(|t| t.unix_nanos));
    let full = analyse(&evs);
    assert!(!full.rejected_links.is_empty(), "the fixture rejects links");
    let engine = Engine::new(Pack::builtin().unwrap());
    let mut c = Correlator::new(&engine);
    for ev in &evs {
        c.feed(ev);
    }
    let one = c.finish_with(&Default::default(), Lang::En, 1);
    let listed: std::collections::HashSet<&str> = one.findings.iter().map(|f| f.id.as_str()).collect();
    for r in &one.rejected_links {
        assert!(listed.contains(r.cause.as_str()) && listed.contains(r.effect.as_str()), "{r:?}");
    }
    let omitted = one.omitted.as_ref().expect("incidents omitted");
    assert!(omitted.rejected_links > 0, "some rejected links are of omitted incidents");
    assert_eq!(one.rejected_links.len() + omitted.rejected_links, full.rejected_links.len());
}
