//! Regression guard: grouping accuracy on the 16 Loghub-2k datasets stays above a floor.
//!
//! The data lives beside the workspace at `../shared/data/loghub-2k` (see its README for where it
//! comes from). This is an accuracy guard, not a speed test.

use std::path::PathBuf;

use rootline_template::eval::grouping_accuracy;
use rootline_template::loghub::{load, structured_path, DATASETS};
use rootline_template::Miner;

/// Measured average GA with the default parameters (see docs/templates.md), minus 0.01.
const GA_FLOOR: f64 = 0.955;

fn data_dir() -> PathBuf {
    // CARGO_MANIFEST_DIR is crates/template; the workspace root is two levels up.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.join("../shared/data/loghub-2k")
}

#[test]
fn loghub_grouping_accuracy_stays_above_floor() {
    let dir = data_dir();
    assert!(
        dir.is_dir(),
        "Loghub-2k data not found at {}: this test needs the labelled datasets (../shared/data/loghub-2k \
         relative to the workspace root)",
        dir.display()
    );
    let mut sum = 0.0;
    let mut report = String::new();
    for d in DATASETS {
        let lab = load(&structured_path(&dir, d)).unwrap_or_else(|e| panic!("{d}: {e}"));
        let mut m = Miner::default();
        let ids: Vec<_> = lab.contents.iter().map(|c| m.observe(c.as_bytes())).collect();
        let ids: Vec<_> = ids.into_iter().map(|id| m.resolve(id)).collect();
        let ga = grouping_accuracy(&ids, &lab.templates);
        report.push_str(&format!("{d:<12} {ga:.3}\n"));
        sum += ga;
    }
    let avg = sum / DATASETS.len() as f64;
    assert!(avg >= GA_FLOOR, "average GA {avg:.4} fell below the floor {GA_FLOOR}:\n{report}");
}
