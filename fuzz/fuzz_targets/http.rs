//! libFuzzer entry point of the `http` target; the logic and its checks are
//! in `peercircle_fuzz::http` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| peercircle_fuzz::http::run(data));
