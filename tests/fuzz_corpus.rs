//! Replays every file of the fuzz corpora (`fuzz/corpus/<target>/`) through
//! the fuzz targets' logic, without libFuzzer or instrumentation: the same
//! checks, on the inputs that reached new code when the targets ran, and on
//! every crash found so far (kept in the corpus once fixed). It keeps the
//! targets compiling and their findings fixed where the instrumented build
//! is not cached (`fuzz/check.sh` picks one or the other; see
//! `fuzz/README.md`).

#[path = "../fuzz/src/bytes.rs"]
mod bytes;
#[path = "../fuzz/src/http.rs"]
mod http;
#[path = "../fuzz/src/protocol.rs"]
mod protocol;
#[path = "../fuzz/src/schedule.rs"]
mod schedule;
#[path = "../fuzz/src/state.rs"]
mod state;

use std::path::PathBuf;

/// The files of one target's corpus, in a stable order.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "{}: the corpus has {} files",
        dir.display(),
        files.len()
    );
    files
}

/// Runs `check` on every file, naming the file that fails.
fn replay(target: &str, check: impl Fn(&[u8])) {
    for path in corpus(target) {
        let data = std::fs::read(&path).expect("a corpus file reads");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
        if let Err(e) = outcome {
            eprintln!("{target}: {} fails", path.display());
            std::panic::resume_unwind(e);
        }
    }
}

#[test]
fn the_protocol_corpus_passes() {
    replay("protocol", protocol::run);
}

#[test]
fn the_schedule_corpus_passes() {
    replay("schedule", schedule::run);
}

#[test]
fn the_state_corpus_passes() {
    replay("state", state::run);
}

#[test]
fn the_http_corpus_passes() {
    replay("http", http::run);
}
