//! The convenant's names as types: a [`Purpose`], a [`Category`] of data and a [`Role`] a
//! professional acts in. Each is a boring name (lowercase `a-z`, digits and `_`, starting with a
//! letter, at most 64 characters: [`signaalhub_policy::floor::is_valid_ident`]), checked at the
//! edge, so free text (a name, an address, a BSN) can never travel as one into a record, a log
//! entry or a letter. Whether the convenant declares the name is the policy's question, asked in
//! the flows.
use signaalhub_policy::floor::is_valid_ident;
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// Why a string is not a convenant name. Never echoes the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a name of at most 64 characters: lowercase letters a-z, digits and _, starting with a letter"
)]
pub struct InvalidName;

macro_rules! names {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Cow<'static, str>);

        impl $name {
            /// A name the hub itself uses (a flow's purpose, a job's role), checked when the hub
            /// is compiled: `const P: Purpose = Purpose::known("zorgmelding");`.
            pub const fn known(s: &'static str) -> Self {
                assert!(is_valid_ident(s), "not a convenant name");
                $name(Cow::Borrowed(s))
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidName;
            fn from_str(s: &str) -> Result<Self, InvalidName> {
                if is_valid_ident(s) {
                    Ok($name(Cow::Owned(s.to_owned())))
                } else {
                    Err(InvalidName)
                }
            }
        }

        /// Reads as its text (lookups, binds, the policy's questions); only [`FromStr`] and
        /// `known` make one.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0.as_ref() == other.as_str()
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self.as_str() == other.0.as_ref()
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0.into_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.0.as_ref(), f)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}

names! {
    /// A purpose of processing the convenant declares (`vroegtijdige_ondersteuning`).
    Purpose;
    /// A category of data the convenant declares (`zorgen_thuissituatie`).
    Category;
    /// A role a professional acts in, as the convenant names it (`ib_er`, `fg`).
    Role;
}

/// Names from text, each checked: the first bad one is the error.
pub fn parse_all<T: FromStr<Err = InvalidName>>(
    names: impl IntoIterator<Item = impl AsRef<str>>,
) -> Result<Vec<T>, InvalidName> {
    names.into_iter().map(|n| n.as_ref().parse()).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_are_boring_and_never_free_text() {
        assert_eq!(
            "vroegtijdige_ondersteuning".parse::<Purpose>().unwrap(),
            "vroegtijdige_ondersteuning"
        );
        for bad in [
            "",
            "Piet Bakker",
            "vader piet",
            "_x",
            "1abc",
            "abc-def",
            "é",
            &"a".repeat(65),
        ] {
            assert_eq!(bad.parse::<Category>(), Err(InvalidName), "{bad:?}");
        }
        assert!("a".repeat(64).parse::<Role>().is_ok());
        const R: Role = Role::known("ib_er");
        assert_eq!(R, "ib_er".parse::<Role>().unwrap());
        assert_eq!(format!("{R} {R:?}"), "ib_er \"ib_er\"");
        let p: Purpose = serde_json::from_str("\"zorgmelding\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"zorgmelding\"");
        assert!(serde_json::from_str::<Purpose>("\"Piet\"").is_err());
        assert_eq!(
            parse_all::<Category>(["a", "b c"]),
            Err(InvalidName),
            "one bad name spoils the list"
        );
    }
}
