//! The golden fixtures of `tests/fixtures/protocol/` against the types:
//! every file parses into its typed value and serializes back to the same
//! JSON (same fields and values; key order aside), and every command type
//! and event kind has its file. The browser client's tests read the same
//! files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::command::{parse_command, parse_hello, Command};
use super::event::Event;
use super::frame::{event_frame, ServerFrame};

fn dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/protocol")
        .join(kind)
}

/// `(stem, JSON)` of every file in a fixture folder.
fn fixtures(kind: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir(kind)).expect("the fixture folder exists");
    for entry in entries {
        let path = entry.expect("a readable entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a readable fixture");
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a file name")
            .to_string();
        out.push((stem, json));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The name a fixture stands for: `phase` for `phase.json` and for a
/// variant such as `phase.by_facilitator.json`.
fn base(stem: &str) -> &str {
    stem.split('.').next().unwrap_or(stem)
}

/// Drops keys whose value is null, recursively (a command's absent optional
/// field and an explicit null mean the same).
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_command_fixture_parses_and_serializes_back() {
    let mut seen = BTreeSet::new();
    for (stem, json) in fixtures("commands") {
        let text = json.to_string();
        if base(&stem) == "hello" || base(&stem) == "hello_resume" {
            let hello = parse_hello(&text).unwrap_or_else(|| panic!("{stem}: not a hello"));
            assert_eq!(json["token"], hello.token.as_str(), "{stem}");
            assert_eq!(
                hello.resume().is_some(),
                json.get("last_seq").is_some(),
                "{stem}"
            );
            continue;
        }
        let (reference, command) =
            parse_command(&text).unwrap_or_else(|e| panic!("{stem}: {}", e.message));
        assert_eq!(command.kind(), base(&stem), "{stem}: its type");
        let mut back = serde_json::to_value(&command).expect("commands serialize");
        if let (Some(r), Some(map)) = (reference, back.as_object_mut()) {
            map.insert("ref".into(), Value::String(r.to_string()));
        }
        assert_eq!(without_nulls(&back), without_nulls(&json), "{stem}");
        seen.insert(base(&stem).to_string());
    }
    for t in Command::TYPES {
        assert!(
            seen.contains(t),
            "command `{t}` has no fixture in tests/fixtures/protocol/commands"
        );
    }
}

#[test]
fn every_event_fixture_parses_and_serializes_back() {
    let mut seen = BTreeSet::new();
    for (stem, json) in fixtures("events") {
        let frame: ServerFrame =
            serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{stem}: {e}"));
        let ServerFrame::Event { seq, at, event } = frame else {
            panic!("{stem} is not an event frame");
        };
        assert_eq!(event.kind(), base(&stem), "{stem}: its kind");
        let back: Value =
            serde_json::from_str(&event_frame(seq, at, &event)).expect("event frames are JSON");
        assert_eq!(back, json, "{stem}");
        seen.insert(base(&stem).to_string());
    }
    for kind in Event::KINDS {
        assert!(
            seen.contains(kind),
            "event `{kind}` has no fixture in tests/fixtures/protocol/events"
        );
    }
    assert_eq!(
        seen.len(),
        Event::KINDS.len(),
        "every fixture names a known kind"
    );
}

#[test]
fn every_frame_fixture_parses_and_serializes_back() {
    let mut types = BTreeSet::new();
    for (stem, json) in fixtures("frames") {
        let frame: ServerFrame =
            serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{stem}: {e}"));
        let back: Value = serde_json::from_str(&frame.to_json()).expect("frames are JSON");
        assert_eq!(back, json, "{stem}");
        types.insert(json["type"].as_str().unwrap_or_default().to_string());
    }
    for t in ["welcome", "ack", "error", "history"] {
        assert!(types.contains(t), "no fixture of a `{t}` frame");
    }
}
