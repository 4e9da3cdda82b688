//! End-to-end tests of the `rootline` binary, one test binary for the crate: real inputs in, exit
//! codes and output checked. One module per command; `support` holds what they share.

mod agent;
mod analyze;
mod casedb;
mod cases;
mod contract;
mod deploy;
mod doctor;
mod fleet;
mod fleet_report;
mod inputs;
mod lab;
mod preflight;
mod report;
mod scripts;
mod support;
mod timeline;
mod wording;
