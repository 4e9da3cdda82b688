//! Loghub-2k benchmark: per-dataset grouping and parsing accuracy, and throughput.
//!
//! ```text
//! cargo run --release -p rootline-template --example loghub -- accuracy DATA_DIR [--per-line DIR]
//! cargo run --release -p rootline-template --example loghub -- content CSV > content.txt
//! cargo run --release -p rootline-template --example loghub -- speed DATA_DIR [LINES]
//! ```
//!
//! `accuracy` mines each dataset's `Content` column with the default parameters (the same for every
//! dataset) and prints GA and PA beside Drain's published GA. With `--per-line DIR` it instead reads
//! `DIR/<D>.jsonl`, the output of `rootline templates --input-format plain --per-line` over the contents
//! written by `content`, so the command line itself is what gets evaluated.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use rootline_template::eval::{grouping_accuracy, parsing_accuracy};
use rootline_template::loghub::{load, structured_path, DATASETS};
use rootline_template::Miner;

/// Drain's grouping accuracy on Loghub-2k as published in Zhu et al., "Tools and Benchmarks for
/// Automated Log Parsing", ICSE-SEIP 2019, Table III (average 0.865).
const DRAIN_GA: [(&str, f64); 16] = [
    ("HDFS", 0.998),
    ("Hadoop", 0.948),
    ("Spark", 0.920),
    ("Zookeeper", 0.967),
    ("BGL", 0.963),
    ("HPC", 0.887),
    ("Thunderbird", 0.955),
    ("Windows", 0.997),
    ("Linux", 0.690),
    ("Android", 0.911),
    ("HealthApp", 0.780),
    ("Apache", 1.000),
    ("OpenSSH", 0.788),
    ("OpenStack", 0.733),
    ("Mac", 0.787),
    ("Proxifier", 0.527),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("accuracy") if args.len() >= 2 => accuracy(Path::new(&args[1]), per_line_dir(&args[2..]), false),
        Some("diagnose") if args.len() >= 3 => diagnose(Path::new(&args[1]), &args[2]),
        Some("content") if args.len() == 2 => content(Path::new(&args[1])),
        Some("speed") if args.len() >= 2 => speed(Path::new(&args[1]), args.get(2).and_then(|n| n.parse().ok())),
        _ => Err("usage: loghub accuracy DATA_DIR [--per-line DIR] | content CSV | speed DATA_DIR [LINES] | diagnose DATA_DIR DATASET".into()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loghub: {e}");
            ExitCode::from(2)
        }
    }
}

type Res = Result<(), String>;

fn per_line_dir(rest: &[String]) -> Option<PathBuf> {
    match rest {
        [flag, dir] if flag == "--per-line" => Some(PathBuf::from(dir)),
        _ => None,
    }
}

/// Mines `lines`, returning each line's final template id and text.
fn mine(lines: &[String]) -> (Vec<u32>, Vec<String>) {
    let mut m = Miner::default();
    let ids: Vec<_> = lines.iter().map(|l| m.observe(l.as_bytes())).collect();
    let mut text: HashMap<u32, String> = HashMap::new();
    let mut out_ids = Vec::with_capacity(ids.len());
    let mut out_t = Vec::with_capacity(ids.len());
    for id in ids {
        let r = m.resolve(id);
        let t = text.entry(r.0).or_insert_with(|| m.template(r).map(|t| t.render()).unwrap_or_default());
        out_ids.push(r.0);
        out_t.push(t.clone());
    }
    (out_ids, out_t)
}

/// Reads `rootline templates --per-line` output: one `{"line", "template_id", "template"}` per line.
fn read_per_line(path: &Path) -> Result<(Vec<String>, Vec<String>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut ids = Vec::new();
    let mut templates = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(l).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        ids.push(v["template_id"].to_string());
        templates.push(v["template"].as_str().unwrap_or_default().to_string());
    }
    Ok((ids, templates))
}

fn accuracy(dir: &Path, per_line: Option<PathBuf>, _quiet: bool) -> Res {
    println!("{:<12} {:>7} {:>7} {:>9} {:>6}", "dataset", "GA", "PA", "Drain GA", "lines");
    let (mut ga_sum, mut pa_sum, mut drain_sum) = (0.0, 0.0, 0.0);
    for (d, drain) in DRAIN_GA {
        let lab = load(&structured_path(dir, d)).map_err(|e| e.to_string())?;
        let (ga, pa) = match &per_line {
            None => {
                let (ids, t) = mine(&lab.contents);
                (grouping_accuracy(&ids, &lab.templates), parsing_accuracy(&t, &lab.templates))
            }
            Some(pl) => {
                let (ids, t) = read_per_line(&pl.join(format!("{d}.jsonl")))?;
                if ids.len() != lab.contents.len() {
                    return Err(format!(
                        "{d}: {} per-line records for {} labelled lines",
                        ids.len(),
                        lab.contents.len()
                    ));
                }
                (grouping_accuracy(&ids, &lab.templates), parsing_accuracy(&t, &lab.templates))
            }
        };
        println!("{d:<12} {ga:>7.3} {pa:>7.3} {drain:>9.3} {:>6}", lab.contents.len());
        ga_sum += ga;
        pa_sum += pa;
        drain_sum += drain;
    }
    let n = DATASETS.len() as f64;
    println!("{:<12} {:>7.3} {:>7.3} {:>9.3}", "average", ga_sum / n, pa_sum / n, drain_sum / n);
    Ok(())
}

/// Prints the wrongly grouped true templates of one dataset, with the mined templates they map to.
fn diagnose(dir: &Path, d: &str) -> Res {
    let lab = load(&structured_path(dir, d)).map_err(|e| e.to_string())?;
    let (ids, t) = mine(&lab.contents);
    let mut by_truth: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_parsed: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, (p, g)) in ids.iter().zip(&lab.templates).enumerate() {
        by_truth.entry(g).or_default().push(i);
        by_parsed.entry(*p).or_default().push(i);
    }
    let mut bad: Vec<(&str, &Vec<usize>)> = by_truth
        .iter()
        .filter(|(_, lines)| {
            let p = ids[lines[0]];
            !(lines.iter().all(|&i| ids[i] == p) && by_parsed[&p].len() == lines.len())
        })
        .map(|(k, v)| (*k, v))
        .collect();
    bad.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    for (truth, lines) in bad.iter().take(40) {
        println!("TRUTH ({}) {truth}", lines.len());
        let mut seen: HashMap<u32, usize> = HashMap::new();
        for &i in lines.iter() {
            *seen.entry(ids[i]).or_default() += 1;
        }
        for (p, n) in seen.iter().take(6) {
            let i = lines.iter().find(|&&i| ids[i] == *p).copied().unwrap_or(0);
            println!("   {n:>4}/{:<4} {}    e.g. {}", by_parsed[p].len(), t[i], lab.contents[i]);
        }
    }
    Ok(())
}

fn content(csv: &Path) -> Res {
    use std::io::Write;
    let lab = load(csv).map_err(|e| e.to_string())?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for c in &lab.contents {
        // A content with a newline would become two plain lines; Loghub contents have none.
        writeln!(out, "{}", c.replace('\n', " ")).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

fn speed(dir: &Path, lines: Option<usize>) -> Res {
    let target = lines.unwrap_or(2_000_000);
    let mut base = Vec::new();
    for d in DATASETS {
        base.extend(load(&structured_path(dir, d)).map_err(|e| e.to_string())?.contents);
    }
    // Replicate the 32,000 contents, interleaved by dataset as a mixed stream would be.
    let corpus: Vec<&[u8]> = base.iter().cycle().take(target).map(|s| s.as_bytes()).collect();
    let bytes: usize = corpus.iter().map(|l| l.len() + 1).sum();
    let mut best = f64::INFINITY;
    let mut templates = 0;
    for _ in 0..3 {
        let mut m = Miner::default();
        let t0 = Instant::now();
        for l in &corpus {
            std::hint::black_box(m.observe(l));
        }
        best = best.min(t0.elapsed().as_secs_f64());
        templates = m.len();
    }
    println!(
        "speed: {} lines ({:.1} MB) in {:.3} s: {:.0} lines/s, {:.1} MB/s, one core ({} templates)",
        corpus.len(),
        bytes as f64 / 1e6,
        best,
        corpus.len() as f64 / best,
        bytes as f64 / 1e6 / best,
        templates
    );
    Ok(())
}
