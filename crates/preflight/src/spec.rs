//! The declared form of a check: serde types read from `checks/<family>/<name>.yaml` as written.
//!
//! Nothing here is checked beyond YAML shape and known keys (`deny_unknown_fields`: a misspelt key
//! is an error with its line and column, never a silently ignored line). [`crate::load`] turns a
//! [`CheckSpec`] into a [`crate::Check`] and reports every problem with its file, line and column.
//!
//! A check file says what to read (`read:`, named sources: a file, a command under a timeout, one
//! of the node-state probes, sysctl keys), what to look for in what was read (`outcomes:`, each a
//! result with the conditions that give it and the message it prints) and what to print when none
//! of them holds (`success:`). See docs/preflight.md for the language with examples.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use rootline_rules::spec::Text;
use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// One check as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// `family.kebab-name`, e.g. `multipath.paths`.
    pub id: String,
    /// What must hold, short (`Every multipath path is active, ready and running`).
    pub title: Text,
    /// Why it matters before an upgrade.
    pub why: Text,
    /// What to do when it does not hold.
    pub fix: Text,
    /// Named sources: what is read or run.
    pub read: BTreeMap<String, SourceSpec>,
    /// Results and the conditions that give them; every one whose conditions hold contributes,
    /// the worst result wins.
    #[serde(default)]
    pub outcomes: Vec<OutcomeSpec>,
    /// The details when no outcome holds (the result is then success).
    pub success: Text,
    /// Where the facts behind the check come from (man pages, source files, READMEs).
    #[serde(default)]
    pub references: Vec<String>,
}

/// One source: exactly one of `file`, `command`, `probe`, `sysctl`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Files to read (absolute paths as on the node; `*` in the last component; `$MANIFESTS` for
    /// the files given with `--manifest`).
    #[serde(default, deserialize_with = "one_or_many_opt")]
    pub file: Option<Vec<String>>,
    /// A command to run under a hard timeout, in its own process group (argv, no shell).
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// A node-state probe built into rootline (`multipath.maps`, `tasks.d-state`, ...).
    #[serde(default)]
    pub probe: Option<String>,
    /// Kernel parameters: their value in /proc/sys and the sysctl.d line that sets them.
    #[serde(default, deserialize_with = "one_or_many_opt")]
    pub sysctl: Option<Vec<String>>,
    /// How to read a file's or a command's output (`multipath`, `ini`, `kv`, `lines`, ...).
    #[serde(default)]
    pub format: Option<String>,
    /// A command's time limit (`10s`; default 10s).
    #[serde(default)]
    pub timeout: Option<String>,
    /// A command's time limit from another source's value in seconds (`probes.timeout`); the
    /// smallest value read wins; `timeout` is used when there is none.
    #[serde(default)]
    pub timeout_from: Option<String>,
    /// Other names a captured bundle may keep this command's output under (`crictl_ps.txt`).
    #[serde(default)]
    pub captured: Vec<String>,
    /// Keep only the items that pass this filter.
    #[serde(default, rename = "where")]
    pub filter: Option<serde_yaml::Value>,
    /// When nothing could be read: `skip` (the check is skipped; the default) or `ignore`
    /// (conditions see the source as absent).
    #[serde(default)]
    pub missing: Option<String>,
}

/// One outcome as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeSpec {
    /// `failure`, `warning`, `success` or `skipped`.
    pub result: String,
    /// Conditions that must all hold (one, or a list); none means always.
    #[serde(default, deserialize_with = "one_or_many_opt")]
    pub when: Option<Vec<CondSpec>>,
    /// Printed once before the per-item lines (`{count}` is the number of items).
    #[serde(default)]
    pub summary: Option<Text>,
    /// Printed for each item an `each` condition matched, or once when there is none.
    pub message: Text,
}

/// One condition as written: exactly one of `each`, `exists`, `none`, `absent`, `present`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CondSpec {
    /// Holds when items of this source pass `where` (at least `min`); they are the ones listed.
    #[serde(default)]
    pub each: Option<String>,
    /// Like `each`, without listing the items.
    #[serde(default)]
    pub exists: Option<String>,
    /// Holds when no item of this (present) source passes `where`.
    #[serde(default)]
    pub none: Option<String>,
    /// Holds when every source named could not be read.
    #[serde(default, deserialize_with = "one_or_many_opt")]
    pub absent: Option<Vec<String>>,
    /// Holds when at least one of the sources named could be read.
    #[serde(default, deserialize_with = "one_or_many_opt")]
    pub present: Option<Vec<String>>,
    /// Field tests every matching item passes.
    #[serde(default, rename = "where")]
    pub filter: Option<serde_yaml::Value>,
    /// The fewest matching items for `each`/`exists` to hold (default 1).
    #[serde(default)]
    pub min: Option<usize>,
}

fn one_or_many_opt<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    one_or_many(d).map(Some)
}

/// One value or a list of them (`file: /etc/x` or `file: [/etc/x, /etc/y]`), keeping serde's own
/// error messages (and their line and column) for what is inside.
fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("one value or a list of values")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
            Vec::deserialize(de::value::SeqAccessDeserializer::new(seq))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
            Ok(vec![T::deserialize(de::value::MapAccessDeserializer::new(map))?])
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Vec<T>, E> {
            Ok(vec![T::deserialize(s.into_deserializer())?])
        }
        fn visit_string<E: de::Error>(self, s: String) -> Result<Vec<T>, E> {
            Ok(vec![T::deserialize(s.into_deserializer())?])
        }
    }
    d.deserialize_any(V(PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_or_a_list() {
        let s: SourceSpec = serde_yaml::from_str("file: /etc/multipath.conf\nformat: multipath").unwrap();
        assert_eq!(s.file.unwrap(), ["/etc/multipath.conf"]);
        let s: SourceSpec = serde_yaml::from_str("file: [/a, /b]\nformat: kv").unwrap();
        assert_eq!(s.file.unwrap(), ["/a", "/b"]);
        let o: OutcomeSpec = serde_yaml::from_str("result: failure\nwhen: {each: maps}\nmessage: {en: x}").unwrap();
        assert_eq!(o.when.unwrap()[0].each.as_deref(), Some("maps"));
        let o: OutcomeSpec =
            serde_yaml::from_str("result: failure\nwhen: [{each: a}, {none: b}]\nmessage: {en: x}").unwrap();
        assert_eq!(o.when.unwrap().len(), 2);
    }

    #[test]
    fn a_misspelt_key_inside_a_condition_keeps_its_line() {
        let e = serde_yaml::from_str::<OutcomeSpec>(
            "result: failure\nwhen:\n  - each: a\n    wher: {x: 1}\nmessage: {en: x}",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown field `wher`"), "{e}");
        let loc = e.location().expect("a location");
        assert_eq!(loc.line(), 4, "{e}");
    }
}
