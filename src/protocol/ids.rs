//! Identifiers on the wire, parsed at the edge into newtypes so that a
//! participant id can never be passed where a message id is expected.
//!
//! Every id is a short string (1–64 characters); a longer or empty one is
//! refused by deserialization (`bad_request`). Ids are cheap to clone
//! (`Arc<str>`): events and the queue share them with the member list.
//! Ids may be logged; they carry no names and no text.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest id accepted from a client, in characters.
pub const MAX_ID_CHARS: usize = 64;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Wraps an id the server made (or a test names).
            pub fn new(id: impl Into<Arc<str>>) -> Self {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.into())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == *other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                let n = s.chars().count();
                if n == 0 || n > MAX_ID_CHARS {
                    return Err(serde::de::Error::custom(concat!(
                        "expected ", $what, " of 1 to 64 characters"
                    )));
                }
                Ok($name(Arc::from(&*s)))
            }
        }
    };
}

id_type!(
    /// A member of a session: a participant (`p_…`) or a facilitator (`f_…`).
    MemberId,
    "a participant id"
);
id_type!(
    /// A message of a room: `m1`, `m2`, …
    MsgId,
    "a message id"
);
id_type!(
    /// A room: `main` or a side room `r1`, `r2`, …
    RoomId,
    "a room id"
);
id_type!(
    /// A direct message: `d1`, `d2`, …
    DmId,
    "a dm id"
);
id_type!(
    /// An item of the facilitators' inbox (a report or a help request): `i1`, `i2`, …
    ItemId,
    "an inbox item id"
);
id_type!(
    /// The client's `ref` of a command: 1–64 characters of its choosing.
    Ref,
    "`ref` as a string"
);

/// The id of the room that always exists.
pub const MAIN_ROOM: &str = "main";

impl RoomId {
    /// The main circle.
    pub fn main() -> RoomId {
        RoomId::new(MAIN_ROOM)
    }

    pub fn is_main(&self) -> bool {
        &*self.0 == MAIN_ROOM
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_1_to_64_characters_parse_and_others_do_not() {
        let ok: MemberId = serde_json::from_str("\"p_abc\"").expect("parses");
        assert_eq!(ok, "p_abc");
        assert!(serde_json::from_str::<MemberId>("\"\"").is_err());
        let long = format!("\"{}\"", "x".repeat(65));
        assert!(serde_json::from_str::<MsgId>(&long).is_err());
        assert!(serde_json::from_str::<RoomId>("7").is_err());
        assert_eq!(serde_json::to_string(&ok).expect("serializes"), "\"p_abc\"");
    }
}
