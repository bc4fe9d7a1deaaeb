//! Validated domain types: every value from outside (HTTP bodies, the
//! command line, WebSocket frames) is parsed into one of these at the edge,
//! so invalid input never reaches the store or the session state machine.
//!
//! Nothing here does I/O or reads the clock. Error messages are plain
//! sentences for the person who typed the value; they never repeat it.

mod fields;
pub mod names;
pub mod schedule;
mod unicode;

pub use fields::{
    AccessCode, Agreement, Capacity, Description, GroupName, Password, SupportResource,
    SupportResources, TimeZoneName,
};
pub use names::{DisplayName, Email};

/// A value that does not pass validation; the message says why, for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValidationError(pub String);

impl ValidationError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<ValidationError> for crate::error::ApiError {
    fn from(e: ValidationError) -> Self {
        crate::error::ApiError::BadRequest(e.0)
    }
}

/// Trims `raw` and checks its length in characters (not bytes) and that it
/// holds no control characters other than line breaks and tabs when
/// `multiline`.
fn checked_text(
    raw: &str,
    what: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<String, ValidationError> {
    let text = raw.trim();
    let len = text.chars().count();
    if len < min {
        return Err(if min <= 1 {
            ValidationError::new(format!("Please fill in the {what}."))
        } else {
            ValidationError::new(format!("The {what} needs at least {min} characters."))
        });
    }
    if len > max {
        return Err(ValidationError::new(format!(
            "The {what} can be at most {max} characters long."
        )));
    }
    let bad = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'));
    if text.chars().any(bad) {
        return Err(ValidationError::new(format!(
            "The {what} contains characters that can't be shown."
        )));
    }
    Ok(text.to_string())
}
