//! The logic of peercircle's fuzz targets, as plain functions: each
//! `run(&[u8])` decodes the fuzzer's bytes into inputs for one part of the
//! server, drives it, and panics when an invariant breaks. libFuzzer calls
//! them from `fuzz_targets/` (coverage-guided); the main crate's
//! `tests/fuzz_corpus.rs` includes the same files and replays every file of
//! `fuzz/corpus/<target>/` through them without instrumentation, so the
//! targets cannot rot even where the instrumented build is not cached.
//!
//! **What it must not do:** reach anything outside this process (the HTTP
//! target drives the router in-process over an in-memory SQLite store), or
//! depend on anything but the inputs (a crash must reproduce from its file).
//! Every module reaches its siblings only as `super::…`, so that the test
//! file can include them at its own root.

pub mod bytes;
pub mod http;
pub mod protocol;
pub mod schedule;
pub mod state;
