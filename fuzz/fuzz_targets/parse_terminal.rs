//! Fuzz target: arbitrary bytes through the terminal session parser never panic.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::drive(rootline_ingest::Format::Terminal, data));
