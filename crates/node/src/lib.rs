//! rootline's live side: checks of a running node (or of a captured /proc,/sys tree) that never hang
//! on the hang they look for, and the evidence bundle `rootline analyze` reads.
//!
//! - [`root`]: where state is read from (live, a captured directory, a bundle archive), with reads
//!   that may block done under a deadline.
//! - [`exec`]: external commands under a hard timeout, each in its own process group.
//! - [`tasks`], [`block`]: the process table and the device-mapper maps with their paths.
//! - [`doctor`]: findings with the catalogue's ids, evidence and next steps.
//! - [`collect`]: the bundle (`.tar.zst`) with its manifest.

pub mod block;
pub mod collect;
pub mod doctor;
pub mod exec;
pub mod root;
pub mod tasks;
