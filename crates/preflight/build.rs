//! Embeds the built-in checks (`checks/` at the workspace root) into the library: every `*.yaml`
//! file becomes an entry of `BUILTIN` (path relative to `checks/`, text), so the binary needs no
//! check files at run time. The same mechanism as the rule pack's (crates/rules/embed_yaml.rs).

#[path = "../rules/embed_yaml.rs"]
mod embed_yaml;

fn main() {
    embed_yaml::embed("checks", "check");
}
