//! What people write: [`UserText`] as it arrives in a command, and the
//! checks that turn it into text the session keeps ([`clean`],
//! [`clean_optional`]).
//!
//! The checks run inside the rules (not at the frame decoder) because the
//! protocol documents their order among the other refusals (e.g. `say` is
//! refused `muted` before `too_long`). `Debug` never shows the words: this is
//! health-related talk and must not reach a log.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{ErrorCode, Refusal};

/// Longest content note on a message, in chars.
pub const MAX_CW_CHARS: usize = 80;
/// Longest break note, help note, pause note or report reason, in chars.
pub const MAX_NOTE_CHARS: usize = 500;
/// Longest side-room name, in chars.
pub const MAX_ROOM_NAME_CHARS: usize = 80;

/// A text field of a command, exactly as sent (not yet trimmed or checked).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserText(String);

impl UserText {
    pub fn new(text: impl Into<String>) -> Self {
        UserText(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for UserText {
    fn from(s: &str) -> Self {
        UserText(s.to_string())
    }
}

impl fmt::Debug for UserText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} chars>", self.0.chars().count())
    }
}

/// Whether a character may appear in what people write: no control
/// characters except newline and tab.
fn allowed(c: char) -> bool {
    !c.is_control() || c == '\n' || c == '\t'
}

/// Trims `raw` (and turns `\r\n` into `\n`); refuses it empty
/// (`bad_request`), with control characters (`bad_request`) or over `max`
/// chars (`too_long`).
pub fn clean(raw: &str, max: usize, what: &str) -> Result<Arc<str>, Refusal> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Refusal::new(
            ErrorCode::BadRequest,
            format!("The {what} is empty; please write something first."),
        ));
    }
    let text = if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    if !text.chars().all(allowed) {
        return Err(Refusal::new(
            ErrorCode::BadRequest,
            format!("The {what} contains characters that can't be shown; please remove them."),
        ));
    }
    if text.chars().count() > max {
        return Err(Refusal::new(
            ErrorCode::TooLong,
            format!("The {what} is too long; please keep it under {max} characters."),
        ));
    }
    Ok(Arc::from(&*text))
}

/// Like [`clean`] for an optional field: absent, empty or blank is none.
pub fn clean_optional(
    raw: Option<&UserText>,
    max: usize,
    what: &str,
) -> Result<Option<Arc<str>>, Refusal> {
    match raw.map(|t| t.as_str().trim()) {
        None | Some("") => Ok(None),
        Some(text) => clean(text, max, what).map(Some),
    }
}

/// Stands for a text in `Debug` output: its length, never its words.
pub struct Redacted<'a>(pub &'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} chars>", self.0.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_checked() {
        assert_eq!(
            &*clean("  hi \r\nthere ", 100, "message").unwrap(),
            "hi \nthere"
        );
        assert_eq!(
            clean("   ", 100, "message").unwrap_err().code,
            ErrorCode::BadRequest
        );
        assert_eq!(
            clean("abcd", 3, "message").unwrap_err().code,
            ErrorCode::TooLong
        );
        assert_eq!(clean("tab\there\nok", 100, "message").unwrap().len(), 11);
        for bad in ["bell\u{7}", "esc\u{1b}[31m", "nul\u{0}", "del\u{7f}"] {
            assert_eq!(
                clean(bad, 100, "message").unwrap_err().code,
                ErrorCode::BadRequest,
                "{bad:?}"
            );
        }
        assert_eq!(
            clean_optional(Some(&UserText::from("  ")), 10, "note").unwrap(),
            None
        );
        assert_eq!(format!("{:?}", UserText::from("secret")), "<6 chars>");
    }
}
