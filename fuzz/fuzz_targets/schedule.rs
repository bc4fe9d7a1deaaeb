//! libFuzzer entry point of the `schedule` target; the logic and its checks are
//! in `peercircle_fuzz::schedule` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| peercircle_fuzz::schedule::run(data));
