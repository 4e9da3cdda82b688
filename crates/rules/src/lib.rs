//! Failure signatures: the rule language, the matching engine, causal links and the rule harness.
//!
//! This crate owns what a failure looks like in the logs. Rules are data (`rules/<family>/<name>.yaml`
//! at the workspace root, compiled into the binary; user packs with `--rules DIR` add or replace rules
//! by id); Rust only compiles and runs them. The stages, one file each:
//! [`spec`] (the YAML as written) -> [`compile`] (checked, compiled [`Signature`]s and [`Link`]s, every
//! problem reported at once) -> [`engine`] (one pass of the [`prefilter`] over each event selects
//! candidate patterns; only those run their regex) -> [`window`] (aggregation into [`Finding`]s, frequency and
//! absence conditions, the storage alias graph) -> [`links`] (candidate causal edges). [`harness`]
//! runs every rule's own test cases, [`docs`] renders rule documentation, [`lint`] checks the pack.
//! It does not read files or order events (that is `rootline-ingest`), nor rank causes (correlate).
//!
//! ```
//! use rootline_event::{Event, Format, Provenance};
//! use rootline_rules::{Engine, Pack};
//! let engine = Engine::new(Pack::builtin().expect("the built-in pack compiles"));
//! let mut ev = Event::new(Format::Syslog, Provenance::new("messages", 440, 0));
//! ev.program = Some("multipathd".into());
//! ev.set_message(b"mpatha: remaining active paths: 0");
//! let analysis = rootline_rules::window::run(&engine, [&ev]);
//! let f = analysis.findings.iter().find(|f| f.signature == "multipath.all-paths-down").unwrap();
//! assert!(f.has("map", "mpatha"));
//! ```

pub mod compile;
pub mod docs;
pub mod engine;
pub mod finding;
pub mod harness;
pub mod links;
pub mod lint;
pub mod locate;
pub mod prefilter;
pub mod spec;
pub mod ties;
pub mod window;

pub use compile::{CompileError, Kind, Link, Pack, Problem, RuleSeverity, Share, Signature, Source};
pub use engine::{Engine, Hit, Scratch, Watch};
pub use finding::{Evidence, Finding};
pub use links::{connect, Edge};
pub use ties::{Tie, TieEdge, Ties};
pub use window::{Aliases, Analysis, Matcher};

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));

/// Language of rendered documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Korean (technical terms stay in English).
    Ko,
}

impl Lang {
    /// `ko` when `LC_ALL`, else `LC_MESSAGES`, else `LANG` starts with `ko`; English otherwise.
    pub fn from_env() -> Lang {
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(var) {
                if !v.is_empty() {
                    return if v.starts_with("ko") { Lang::Ko } else { Lang::En };
                }
            }
        }
        Lang::En
    }

    /// Parses `en` or `ko`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "en" => Some(Lang::En),
            "ko" => Some(Lang::Ko),
            _ => None,
        }
    }
}
