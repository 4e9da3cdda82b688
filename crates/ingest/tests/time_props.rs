//! Property tests for time parsing and merging: random interleavings of zones and precisions always
//! merge sorted by instant, and equal instants keep input order (file order, then line order).

use std::io::Write;

use proptest::prelude::*;
use rootline_event::{civil_from_days, Timestamp};
use rootline_ingest::time::civil::parse_iso;
use rootline_ingest::time::RawTime;
use rootline_ingest::{read, Options};

const BASE: i64 = 1_760_313_600; // 2025-10-13T00:00:00Z

/// Formats `unix_nanos` in one of several shapes; returns the line prefix.
fn stamp(unix_nanos: i64, shape: u8) -> String {
    let kst = 9 * 3600;
    match shape % 4 {
        // RFC 3339 UTC, nanoseconds.
        0 => Timestamp::from_unix_nanos(unix_nanos, 0).to_rfc3339(),
        // RFC 3339 KST, whatever precision the value has.
        1 => Timestamp::from_unix_nanos(unix_nanos, kst).to_rfc3339(),
        // rsyslog high precision, microseconds, KST.
        2 => {
            let t = Timestamp::from_unix_nanos(unix_nanos - unix_nanos.rem_euclid(1000), kst);
            let (y, mo, d, h, mi, s, ns) = t.civil();
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}+09:00", ns / 1000)
        }
        // Classic syslog (no year, no zone, seconds): read in --tz +09:00.
        _ => {
            let t = Timestamp::from_unix_nanos(unix_nanos, kst);
            let (_, mo, d, h, mi, s, _) = t.civil();
            let mon =
                ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][mo as usize - 1];
            format!("{mon} {d:2} {h:02}:{mi:02}:{s:02}")
        }
    }
}

/// What an instant looks like after a round trip through `shape` (precision is lost, not order).
fn truncate(unix_nanos: i64, shape: u8) -> i64 {
    match shape % 4 {
        2 => unix_nanos - unix_nanos.rem_euclid(1000),
        3 => unix_nanos - unix_nanos.rem_euclid(1_000_000_000),
        _ => unix_nanos,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn iso_round_trips(secs in 0i64..4_000_000_000, nanos in 0i64..1_000_000_000, off_q in -48i32..=56) {
        let t = Timestamp::from_unix_nanos(secs * 1_000_000_000 + nanos, off_q * 900);
        let s = t.to_rfc3339();
        let (raw, n) = parse_iso(s.as_bytes()).expect("our own RFC 3339 parses");
        prop_assert_eq!(n, s.len());
        prop_assert_eq!(raw, RawTime::Exact { unix_nanos: t.unix_nanos, offset_secs: t.offset_secs });
    }

    #[test]
    fn civil_days_round_trip(days in -1_000_000i64..1_000_000) {
        let (y, m, d) = civil_from_days(days);
        prop_assert_eq!(rootline_event::days_from_civil(y, m, d), days);
    }

    #[test]
    fn interleaved_sources_merge_sorted_and_stable(
        files in prop::collection::vec((any::<u8>(), prop::collection::vec(0i64..600_000_000_000, 1..40)), 1..6)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut expected = 0usize;
        for (fi, (shape, offsets)) in files.iter().enumerate() {
            let mut offsets = offsets.clone();
            offsets.sort_unstable();
            let mut f = std::fs::File::create(dir.path().join(format!("f{fi}.log"))).unwrap();
            for (li, o) in offsets.iter().enumerate() {
                let t = BASE * 1_000_000_000 + o;
                let line = match shape % 4 {
                    3 => format!("{} node{fi} app[1]: event f{fi} l{li}", stamp(t, *shape)),
                    _ => format!("{} event f{fi} l{li}", stamp(t, *shape)),
                };
                writeln!(f, "{line}").unwrap();
                expected += 1;
            }
        }
        let mut opts = Options::default();
        opts.time.tz = Some(jiff::tz::TimeZone::fixed(jiff::tz::Offset::from_seconds(9 * 3600).unwrap()));
        opts.time.year = Some(2025);
        let events: Vec<_> = read(&[dir.path().to_path_buf()], &opts).into_events().collect();
        prop_assert_eq!(events.len(), expected);
        for w in events.windows(2) {
            let (a, b) = (w[0].time.expect("timed"), w[1].time.expect("timed"));
            prop_assert!(a <= b, "not sorted: {} then {}", a, b);
            if a == b {
                let ka = (&*w[0].provenance.path, w[0].provenance.line);
                let kb = (&*w[1].provenance.path, w[1].provenance.line);
                prop_assert!(ka < kb, "equal times out of input order: {:?} then {:?}", ka, kb);
            }
        }
        // Every line's time is its written instant at the shape's precision.
        for ev in &events {
            let msg = ev.message_str();
            let (fi, li) = msg.rsplit_once(" l").map(|(a, l)| (a.rsplit_once('f').unwrap().1.parse::<usize>().unwrap(), l.parse::<usize>().unwrap())).unwrap();
            let (shape, offsets) = &files[fi];
            let mut offsets = offsets.clone();
            offsets.sort_unstable();
            let want = truncate(BASE * 1_000_000_000 + offsets[li], *shape);
            prop_assert_eq!(ev.time.unwrap().unix_nanos, want);
        }
    }
}

#[test]
fn new_year_inside_a_year_less_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("messages"), "Dec 31 23:59:58 n1 app: before\nJan  1 00:00:01 n1 app: after\n")
        .unwrap();
    let mut opts = Options::default();
    opts.time.tz = Some(jiff::tz::TimeZone::UTC);
    opts.time.year = Some(2024);
    let ev: Vec<_> = read(&[dir.path().to_path_buf()], &opts).into_events().collect();
    assert_eq!(ev[0].time.unwrap().to_rfc3339(), "2024-12-31T23:59:58Z");
    assert_eq!(ev[1].time.unwrap().to_rfc3339(), "2025-01-01T00:00:01Z");
}

#[test]
fn year_comes_from_the_hosts_dated_sources() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("messages"), "Oct 13 19:51:02 n1 app: year-less\n").unwrap();
    std::fs::write(dir.path().join("app.log"), "2019-10-13T19:50:00+09:00 dated\n").unwrap();
    let mut opts = Options::default();
    opts.time.tz = Some(jiff::tz::TimeZone::fixed(jiff::tz::Offset::from_seconds(9 * 3600).unwrap()));
    opts.time.assume_host = Some("n1".into());
    let ev: Vec<_> = read(&[dir.path().to_path_buf()], &opts).into_events().collect();
    let yl = ev.iter().find(|e| e.message_str() == "year-less").unwrap();
    assert_eq!(yl.time.unwrap().to_rfc3339(), "2019-10-13T19:51:02+09:00");
}

#[test]
fn kst_and_utc_sources_interleave_by_instant() {
    let dir = tempfile::tempdir().unwrap();
    // 19:51:02 KST == 10:51:02 UTC; the UTC line one second later must come after.
    std::fs::write(
        dir.path().join("a.log"),
        "2025-10-13T19:51:02+09:00 kst first\n2025-10-13T19:51:04+09:00 kst third\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("b.log"), "2025-10-13T10:51:03Z utc second\n").unwrap();
    let ev: Vec<String> = read(&[dir.path().to_path_buf()], &Options::default())
        .into_events()
        .map(|e| e.message_str().into_owned())
        .collect();
    assert_eq!(ev, ["kst first", "utc second", "kst third"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Writers that interleave (a few seconds out of order) or clocks that jump back (hours) still
    /// merge into one sorted timeline, with no event lost.
    #[test]
    fn out_of_order_files_merge_sorted(
        files in prop::collection::vec(prop::collection::vec((0i64..600_000_000_000, any::<bool>()), 1..60), 1..4),
        jump in prop::option::of(1i64..20_000),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut n = 0;
        for (fi, lines) in files.iter().enumerate() {
            let mut f = std::fs::File::create(dir.path().join(format!("f{fi}.log"))).unwrap();
            let mut base = BASE * 1_000_000_000;
            for (li, (o, timeless)) in lines.iter().enumerate() {
                // Mostly increasing, with jitter back of up to 5 s; optionally one big jump back.
                base += o % 2_000_000_000;
                let mut t = base - (o % 5_000_000_000);
                if let Some(j) = jump.filter(|_| li == lines.len() / 2) {
                    t -= j * 1_000_000_000;
                }
                if *timeless {
                    writeln!(f, "no stamp f{fi} l{li}").unwrap();
                } else {
                    writeln!(f, "{} event f{fi} l{li}", Timestamp::from_unix_nanos(t, 0).to_rfc3339()).unwrap();
                }
                n += 1;
            }
        }
        let events: Vec<_> = read(&[dir.path().to_path_buf()], &Options::default()).into_events().collect();
        prop_assert_eq!(events.len(), n);
        let times: Vec<i64> = events.iter().filter_map(|e| e.time.map(|t| t.unix_nanos)).collect();
        prop_assert!(times.windows(2).all(|w| w[0] <= w[1]), "timed events sorted");
    }
}

#[test]
fn a_timeless_line_stays_after_the_line_before_it_in_a_reordered_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.log"),
        "2025-10-13T10:00:02Z second\n  continuation-like but generic\n2025-10-13T10:00:01Z first\n2025-10-13T10:00:03Z third\n",
    )
    .unwrap();
    let ev: Vec<String> = read(&[dir.path().to_path_buf()], &Options::default())
        .into_events()
        .map(|e| e.message_str().into_owned())
        .collect();
    assert_eq!(ev, ["first", "second", "  continuation-like but generic", "third"]);
}

#[test]
fn a_staircase_back_is_put_in_order() {
    // Each line is one second before the line above, after a jump ahead: every line is out of order
    // against the latest time, not just against its neighbour.
    let dir = tempfile::tempdir().unwrap();
    let lines: String = [10, 14, 13, 12, 11, 15].iter().map(|s| format!("2025-10-13T10:00:{s:02}Z at {s}\n")).collect();
    std::fs::write(dir.path().join("a.log"), lines).unwrap();
    let ev: Vec<String> = read(&[dir.path().to_path_buf()], &Options::default())
        .into_events()
        .map(|e| e.message_str().into_owned())
        .collect();
    assert_eq!(ev, ["at 10", "at 11", "at 12", "at 13", "at 14", "at 15"]);
}
