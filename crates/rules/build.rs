//! Embeds the built-in rule pack (`rules/` at the workspace root) into the library: every `*.yaml`
//! file becomes an entry of `BUILTIN` (path relative to `rules/`, text), so the binary needs no rule
//! files at run time.

#[path = "embed_yaml.rs"]
mod embed_yaml;

fn main() {
    embed_yaml::embed("rules", "rule");
}
