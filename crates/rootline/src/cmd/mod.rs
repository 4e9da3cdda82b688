//! Subcommands. Each returns the process exit code or an error (a [`UsageError`] maps to exit 2).

pub mod agent;
pub mod analyze;
pub mod cases;
pub mod collect;
pub mod common;
pub mod doctor;
pub mod fleet;
pub mod preflight;
pub mod progress;
pub mod report;
pub mod rules;
pub mod templates;
pub mod timeline;

use std::fmt;

/// A mistake in how rootline was called or in what it was given (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for returning a [`UsageError`].
pub fn usage<T>(msg: impl Into<String>) -> anyhow::Result<T> {
    Err(UsageError(msg.into()).into())
}
