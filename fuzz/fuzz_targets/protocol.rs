//! libFuzzer entry point of the `protocol` target; the logic and its checks are
//! in `peercircle_fuzz::protocol` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| peercircle_fuzz::protocol::run(data));
