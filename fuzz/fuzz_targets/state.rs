//! libFuzzer entry point of the `state` target; the logic and its checks are
//! in `peercircle_fuzz::state` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| peercircle_fuzz::state::run(data));
