//! The `protocol` target: one WebSocket text frame (the input, when it is
//! UTF-8, as every text frame is) through the hello decoder and the command
//! decoder.
//!
//! Checks: neither panics; a decoded hello reads back the same from its own
//! fields and its `Debug` never depends on the token; every decoded command
//! serializes, and the serialized form decodes to the same command (with its
//! `ref` too); its `type` is the frame's; its `Debug` depends on the length
//! of what people wrote, never on the words; a refused frame gets a message,
//! the `ref` it echoes is the frame's own, it never quotes a value sent
//! (but the `type`), and it is called an unknown command only when its
//! `type` is not one.

use peercircle::protocol::{parse_command, parse_hello, Command, Hello};
use serde_json::Value;

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_hello(text);
    check_command(text);
}

fn check_hello(text: &str) {
    let Some(hello) = parse_hello(text) else {
        return;
    };
    let frame: Value = serde_json::from_str(text).expect("an accepted hello is JSON");
    assert_eq!(frame["type"], "hello", "a hello without type hello");
    let mut again = serde_json::json!({"type": "hello", "token": hello.token});
    if let Some(epoch) = &hello.epoch {
        again["epoch"] = epoch.as_str().into();
    }
    if let Some(seq) = hello.last_seq {
        again["last_seq"] = seq.into();
    }
    assert_eq!(
        parse_hello(&again.to_string()).as_ref(),
        Some(&hello),
        "a hello does not read back from its own fields"
    );
    assert_eq!(
        hello.resume().is_some(),
        hello.epoch.is_some() && hello.last_seq.is_some()
    );
    let masked = Hello {
        token: "x".into(),
        ..hello.clone()
    };
    assert_eq!(
        format!("{hello:?}"),
        format!("{masked:?}"),
        "the token shows in Debug"
    );
}

fn check_command(text: &str) {
    match parse_command(text) {
        Ok((reference, command)) => {
            let frame: Value = serde_json::from_str(text).expect("an accepted command is JSON");
            assert_eq!(
                frame["type"],
                command.kind(),
                "the kind is not the frame's type"
            );
            let json = serde_json::to_string(&command).expect("a command serializes");
            let (r, again) = parse_command(&json).unwrap_or_else(|e| {
                panic!(
                    "`{}` serialized does not parse: {}",
                    command.kind(),
                    e.message
                )
            });
            assert_eq!(r, None);
            assert_eq!(again, command, "a command changed through its JSON");
            if let Some(reference) = &reference {
                let mut v: Value = serde_json::from_str(&json).expect("the command's JSON");
                v["ref"] = reference.as_str().into();
                let (r, again) = parse_command(&v.to_string()).expect("with its ref");
                assert_eq!(r.as_ref(), Some(reference));
                assert_eq!(again, command);
            }
            assert_eq!(
                format!("{command:?}"),
                format!("{:?}", masked(&command)),
                "what people wrote shows in Debug"
            );
        }
        Err(malformed) => {
            assert!(!malformed.message.is_empty(), "a refusal without a message");
            if let Some(reference) = &malformed.reference {
                let frame: Value = serde_json::from_str(text).expect("a ref comes from JSON");
                assert_eq!(frame["ref"].as_str(), Some(reference.as_str()));
            }
            if let Ok(frame) = serde_json::from_str::<Value>(text) {
                let mut sent = Vec::new();
                strings(&frame, &mut sent);
                for value in sent {
                    let quoted = serde_json::to_string(value).expect("a string serializes");
                    let shown = format!("\"{value}\"");
                    assert!(
                        frame["type"] == *value
                            || !(malformed.message.contains(&quoted)
                                || malformed.message.contains(&shown)),
                        "the refusal repeats a value sent: {}",
                        malformed.message
                    );
                }
            }
            if malformed
                .message
                .ends_with("is not a command this server knows.")
            {
                let frame: Value = serde_json::from_str(text).expect("a type comes from JSON");
                let kind = frame["type"].as_str().expect("an unknown type is a string");
                assert!(
                    !Command::TYPES.contains(&kind),
                    "`{kind}` is a command, yet the frame was refused as an unknown one"
                );
            }
        }
    }
}

/// Every string value in `v` (not the keys).
fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(fields) => fields.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

/// The command with every text field replaced by as many `x` as it had
/// characters.
fn masked(command: &Command) -> Command {
    let mut v = serde_json::to_value(command).expect("a command serializes");
    if let Some(fields) = v.as_object_mut() {
        for key in ["text", "cw", "note", "reason", "name"] {
            if let Some(Value::String(s)) = fields.get_mut(key) {
                *s = "x".repeat(s.chars().count());
            }
        }
    }
    serde_json::from_value(v).expect("a masked command reads back")
}
