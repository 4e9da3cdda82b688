//! The command-line contract of docs/guide.md ("The command-line contract"), checked against the
//! binary: the options table against every command's `--help`, the old spellings against their usage
//! errors, and the JSON rules (one type per field, byte strings as strings) against the JSON of every
//! example bundle, of a file with invalid UTF-8, of the fleet example, of a captured doctor tree and
//! of preflight over the captured trees (and its plan). The agent's row (no --format, --json or
//! -o: it serves, or prints Prometheus' text with --once) is checked like the others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use super::support::root;

fn run(args: &[&str]) -> Output {
    crate::support::command()
        .current_dir(root())
        .env("TZ", "UTC")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .args(args)
        .output()
        .expect("rootline runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert_eq!(o.status.code(), Some(0), "rootline {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

/// One row of the options table of docs/guide.md.
#[derive(Debug)]
struct Row {
    command: Vec<String>,
    input_format: bool,
    formats: Vec<String>,
    json: bool,
    output: bool,
}

fn table() -> Vec<Row> {
    let guide = std::fs::read_to_string(root().join("docs/guide.md")).unwrap();
    let start = guide.find("| command | `--input-format` |").expect("the options table in docs/guide.md");
    let cells =
        |l: &str| -> Vec<String> { l.trim().trim_matches('|').split('|').map(|c| c.trim().to_string()).collect() };
    let yes = |c: &str| match c {
        "yes" => true,
        "no" => false,
        other => panic!("docs/guide.md options table: `{other}` is neither yes nor no"),
    };
    let ticked = |c: &str| -> Vec<String> { c.split('`').skip(1).step_by(2).map(str::to_string).collect() };
    let rows: Vec<Row> = guide[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let c = cells(l);
            Row {
                command: ticked(&c[0])[0].split(' ').map(str::to_string).collect(),
                input_format: yes(&c[1]),
                formats: ticked(&c[2]),
                json: yes(&c[3]),
                output: yes(&c[4]),
            }
        })
        .collect();
    assert!(rows.len() >= 9, "{rows:?}");
    rows
}

/// The paragraph of `--help` that documents `flag` (its line and the indented lines below it).
fn option_help(help: &str, flag: &str) -> Option<String> {
    let lines: Vec<&str> = help.lines().collect();
    let at = lines.iter().position(|l| {
        let t = l.trim_start();
        t.starts_with(&format!("{flag} "))
            || t == flag
            || t.contains(&format!(", {flag} "))
            || t.ends_with(&format!(", {flag}"))
    })?;
    let mut text = lines[at].trim().to_string();
    for l in &lines[at + 1..] {
        if l.trim().is_empty() || !l.starts_with("          ") {
            break;
        }
        text.push(' ');
        text.push_str(l.trim());
    }
    Some(text)
}

/// Every command of the table documents in its `--help` what the table says, and nothing else.
#[test]
fn every_command_help_follows_the_options_table() {
    for row in table() {
        let mut args: Vec<&str> = row.command.iter().map(String::as_str).collect();
        args.push("--help");
        let help = ok(&args);
        let name = row.command.join(" ");
        assert!(
            option_help(&help, "--color").is_some_and(|h| h.contains("auto") && h.contains("never")),
            "{name}: --color"
        );
        assert_eq!(option_help(&help, "--input-format").is_some(), row.input_format, "{name}: --input-format\n{help}");
        assert_eq!(option_help(&help, "--json").is_some(), row.json, "{name}: --json\n{help}");
        assert_eq!(option_help(&help, "--output").is_some(), row.output, "{name}: -o/--output\n{help}");
        if row.output {
            assert!(help.contains("-o, --output <FILE>"), "{name}: -o FILE");
        }
        match option_help(&help, "--format") {
            None => assert!(row.formats.is_empty(), "{name}: --format missing\n{help}"),
            Some(h) => {
                assert!(h.contains("Output format:"), "{name}: --format must choose the output: {h}");
                let words: BTreeSet<&str> =
                    h.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
                for f in &row.formats {
                    assert!(words.contains(f.as_str()), "{name}: --format help does not name {f}: {h}");
                }
                assert!(
                    h.contains(&format!("{} (default", row.formats[0])),
                    "{name}: the default is {}: {h}",
                    row.formats[0]
                );
            }
        }
        if let Some(h) = option_help(&help, "--input-format") {
            assert!(h.contains("syslog") && h.contains("journal"), "{name}: --input-format names the formats: {h}");
        }
    }
}

/// Every command of the table accepts each --color value (analyze rejected `never` once).
#[test]
fn every_command_accepts_color() {
    let seed = "examples/incidents/seed-37";
    let dir = tempfile::tempdir().unwrap();
    let analysis = dir.path().join("a.json");
    ok(&["analyze", seed, "--format", "json", "-o", analysis.to_str().unwrap()]);
    let doctor_root = "crates/node/tests/data/lab-outage";
    let nodes = dir.path().join("nodes.txt");
    std::fs::write(&nodes, "node-1\nnode-2\nnode-3\n").unwrap();
    for when in ["auto", "always", "never"] {
        for args in [
            vec!["timeline", seed],
            vec!["templates", seed],
            vec!["analyze", seed],
            vec!["fleet", "examples/fleets/upgrade-wave"],
            vec!["rules", "scan", seed],
            vec!["rules", "list"],
            vec!["report", analysis.to_str().unwrap()],
            vec!["cases", "list"],
            vec!["cases", "stats"],
        ] {
            let mut a = args.clone();
            a.extend(["--color", when]);
            ok(&a);
        }
        let o = run(&["doctor", "--root", doctor_root, "--no-commands", "--color", when]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "doctor finds the captured outage: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = run(&["preflight", "--root", doctor_root, "--color", when]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "preflight stops on the captured outage: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        ok(&["preflight", "--list", "--color", when]);
        // The agent's one cycle prints its metrics and exits 0, sick node or not.
        let metrics = ok(&["agent", "--root", doctor_root, "--once", "--color", when]);
        assert!(metrics.contains("rootline_multipath_map_stale{"), "agent --once: {metrics}");
        ok(&["preflight", "plan", "--nodes", nodes.to_str().unwrap(), "--color", when]);
        // Given before the command too.
        ok(&["--color", when, "rules", "list"]);
    }
    let o = run(&["analyze", seed, "--color", "sometimes"]);
    assert_eq!(o.status.code(), Some(2));
}

/// The old spelling `timeline --format syslog` (and its like on every command that reads logs) is a
/// usage error naming --input-format, never a silent misread; --input-format reads as asked.
#[test]
fn an_input_format_given_to_format_is_a_usage_error_naming_input_format() {
    let f = "examples/incidents/lab-offline-queue/messages";
    for row in table().iter().filter(|r| r.input_format) {
        let mut args: Vec<&str> = row.command.iter().map(String::as_str).collect();
        let target = if row.command[0] == "fleet" { "examples/fleets/upgrade-wave" } else { f };
        args.extend(["--format", "syslog", target]);
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("--input-format syslog"), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?} printed output");
    }
    let plain = ok(&["timeline", "--input-format", "plain", "--json", f]);
    let first: Value = serde_json::from_str(plain.lines().next().unwrap()).unwrap();
    assert_eq!(first["format"], "plain");
    let o = run(&["timeline", "--json", "--format", "text", f]);
    assert_eq!(o.status.code(), Some(2), "--json and --format text contradict each other");
}

/// `-o FILE` writes exactly what standard output would get, uncoloured under --color auto.
#[test]
fn output_file_holds_what_stdout_gets() {
    let dir = tempfile::tempdir().unwrap();
    let f = "examples/incidents/lab-offline-queue";
    for args in [vec!["timeline", f], vec!["timeline", f, "--json"], vec!["templates", f], vec!["rules", "scan", f]] {
        let out = dir.path().join("out");
        let mut with = args.clone();
        with.extend(["-o", out.to_str().unwrap()]);
        let o = run(&with);
        assert_eq!(o.status.code(), Some(0), "{with:?}");
        assert!(o.stdout.is_empty(), "{with:?}: nothing on standard output");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), ok(&args), "{args:?}");
    }
}

/// Records the JSON type of every value under its path (array indices dropped, object keys kept);
/// null is recorded apart, since a field may be null where its value is unknown.
fn types(v: &Value, path: &str, out: &mut BTreeMap<String, BTreeSet<&'static str>>) {
    let t = match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(a) => {
            for x in a {
                types(x, &format!("{path}[]"), out);
            }
            "array"
        }
        Value::Object(o) => {
            for (k, x) in o {
                types(x, &format!("{path}.{k}"), out);
            }
            "object"
        }
    };
    out.entry(path.to_string()).or_default().insert(t);
}

/// Paths whose values change type (null aside; an integer where other values are fractions is one
/// numeric type).
fn switching(docs: &[Value]) -> Vec<String> {
    let mut seen = BTreeMap::new();
    for d in docs {
        types(d, "", &mut seen);
    }
    seen.into_iter()
        .filter_map(|(p, mut t)| {
            t.remove("null");
            if t.contains("number") {
                t.remove("integer");
            }
            (t.len() > 1).then(|| format!("{p}: {t:?}"))
        })
        .collect()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn bundles() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("examples/incidents"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| Path::new("examples/incidents").join(p.file_name().unwrap()).display().to_string())
        .collect();
    v.sort();
    assert!(v.len() >= 4, "{v:?}");
    v
}

/// Every JSON output keeps one type per field over every example bundle and a file that is not
/// UTF-8: `message` and `example` stay strings, the exact bytes come beside them.
#[test]
fn json_fields_keep_one_type() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("latin1.log");
    std::fs::write(
        &bad,
        b"2025-10-13T10:00:00Z node1 app[7]: caf\xe9 ok\n2025-10-13T10:00:01Z node1 app[7]: plain line\n\
          2025-10-13T10:00:02Z node1 app[7]: caf\xe9 ok\n2025-10-13T10:00:03Z node1 kernel: \xff\xfe\n",
    )
    .unwrap();
    let bad = bad.to_str().unwrap().to_string();
    let mut inputs = bundles();
    inputs.push(bad.clone());
    let (mut events, mut stats, mut templates, mut analyses, mut scans) = (vec![], vec![], vec![], vec![], vec![]);
    for i in &inputs {
        events.extend(json_lines(&ok(&["timeline", "--json", i])));
        events.extend(json_lines(&ok(&["timeline", "--json", "--collapse", "30", i])));
        stats.push(serde_json::from_str(&ok(&["timeline", "--stats", "--json", i])).unwrap());
        templates.extend(json_lines(&ok(&["templates", "--json", i])));
        templates.extend(json_lines(&ok(&["templates", "--per-line", i])));
        analyses.push(serde_json::from_str(&ok(&["analyze", "--format", "json", i])).unwrap());
        scans.push(serde_json::from_str(&ok(&["rules", "scan", "--json", i])).unwrap());
    }
    let fleet: Value = serde_json::from_str(&ok(&["fleet", "examples/fleets/upgrade-wave", "--json"])).unwrap();
    let o = run(&["doctor", "--root", "crates/node/tests/data/lab-outage", "--no-commands", "--json"]);
    let doctor: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules = json_lines(&ok(&["rules", "list", "--json"]));
    // preflight over the captured trees: healthy, risky configuration, the outage.
    let preflight: Vec<Value> = [
        "crates/preflight/tests/data/healthy",
        "crates/preflight/tests/data/risky-config",
        "crates/node/tests/data/lab-outage",
    ]
    .iter()
    .map(|t| serde_json::from_slice(&run(&["preflight", "--root", t, "--json"]).stdout).unwrap())
    .collect();
    let preflight_list = json_lines(&ok(&["preflight", "--list", "--json"]));
    let nodes = dir.path().join("nodes.txt");
    std::fs::write(&nodes, "node-1\nnode-2\nnode-3\n").unwrap();
    let plan: Value =
        serde_json::from_str(&ok(&["preflight", "plan", "--nodes", nodes.to_str().unwrap(), "--json"])).unwrap();
    // The case database's outputs, with every bundle that has an incident stored.
    let db = format!("sqlite://{}", dir.path().join("cases.db").display());
    let (mut added, mut listed, mut shown, mut similar, mut exported) = (vec![], vec![], vec![], vec![], vec![]);
    for b in bundles() {
        let o = run(&["cases", "--db", &db, "add", &b, "--json"]);
        if o.status.code() == Some(0) {
            added.extend(json_lines(&String::from_utf8(o.stdout).unwrap()));
        }
    }
    assert!(added.len() >= 3, "{added:?}");
    for b in bundles() {
        similar.push(
            serde_json::from_str(&ok(&["cases", "--db", &db, "similar", &b, "--json", "--min-score", "0"])).unwrap(),
        );
    }
    listed.extend(json_lines(&ok(&["cases", "--db", &db, "list", "--json"])));
    for c in &listed {
        let id = c["id"].to_string();
        shown.push(serde_json::from_str(&ok(&["cases", "--db", &db, "show", &id, "--json"])).unwrap());
    }
    exported.extend(json_lines(&ok(&["cases", "--db", &db, "export"])));
    let case_stats: Value = serde_json::from_str(&ok(&["cases", "--db", &db, "stats", "--json"])).unwrap();
    for (what, docs) in [
        ("timeline --json", &events),
        ("timeline --stats --json", &stats),
        ("templates --json", &templates),
        ("analyze --format json", &analyses),
        ("rules scan --json", &scans),
        ("fleet --json", &vec![fleet.clone()]),
        ("doctor --json", &vec![doctor.clone()]),
        ("rules list --json", &rules),
        ("preflight --json", &preflight),
        ("preflight --list --json", &preflight_list),
        ("preflight plan --json", &vec![plan]),
        ("cases add --json", &added),
        ("cases list --json", &listed),
        ("cases show --json", &shown),
        ("cases export", &exported),
        ("cases similar --json", &similar),
        ("cases stats --json", &vec![case_stats]),
    ] {
        assert!(switching(docs).is_empty(), "{what}: fields that change type: {:#?}", switching(docs));
    }
    // The invalid bytes: a string with \xNN, and the exact bytes beside it.
    let latin: Vec<&Value> =
        events.iter().filter(|e| e["path"] == bad.as_str() && e.get("message").is_some()).collect();
    let cafe = latin.iter().find(|e| e["message"].as_str().is_some_and(|m| m.starts_with("caf"))).unwrap();
    assert_eq!(cafe["message"], "caf\\xE9 ok");
    assert_eq!(cafe["message_base64"], "Y2Fm6SBvaw==");
    let plain = latin.iter().find(|e| e["message"] == "plain line").unwrap();
    assert!(plain.get("message_base64").is_none(), "only text that is not UTF-8 carries its bytes");
    assert!(templates.iter().any(|t| t.get("example_base64").is_some()), "templates keep the exact bytes too");
    // Finding ids and rule ids have one name each, in the analysis and in doctor.
    for f in
        analyses.iter().flat_map(|a| a["findings"].as_array().unwrap()).chain(doctor["findings"].as_array().unwrap())
    {
        let (id, sig) = (f["id"].as_str().unwrap(), f["signature"].as_str().unwrap());
        let n = id.strip_prefix(sig).and_then(|r| r.strip_prefix('#')).unwrap_or_else(|| panic!("{id} for {sig}"));
        assert!(n.parse::<u32>().is_ok_and(|n| n >= 1), "{id}");
    }
    assert!(!doctor["findings"].as_array().unwrap().is_empty());
}
