//! Fuzz target: arbitrary bytes as an input file (compressed, archived or text, format detected)
//! through the whole read-resolve-merge pipeline never panic, hang, or lose events.
#![no_main]

use std::io::Write;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("rootline-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("input");
    if let Ok(mut f) = std::fs::File::create(&path) {
        let _ = f.write_all(data);
    }
    let t = rootline_ingest::read(&[path], &rootline_ingest::Options::default());
    let n = t.stats.events;
    assert_eq!(t.into_events().count() as u64, n);
});
