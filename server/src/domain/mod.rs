//! Domain types and rules, free of protobuf: the api layer converts at the edge.
/// An enum of fixed codes, each with its Dutch words: stored, on the wire and in the log by its
/// code, shown by its words.
macro_rules! coded {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $code:literal, $nl:literal;)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vm])* $v,)* }

        impl $name {
            /// Every value, in the order forms show them.
            pub const ALL: &'static [$name] = &[$($name::$v,)*];

            /// Stable code (stored, on the wire and in the log).
            pub fn code(self) -> &'static str {
                match self { $($name::$v => $code,)* }
            }

            /// Parses [`Self::code`].
            pub fn from_code(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|k| k.code() == s)
            }

            /// In Dutch, for letters and screens.
            pub fn nl(self) -> &'static str {
                match self { $($name::$v => $nl,)* }
            }
        }
    };
}

pub mod access;
pub mod access_letter;
pub mod basis;
pub mod consent;
pub mod directory;
pub mod envelope;
pub mod family;
pub mod involvement;
pub mod letter;
pub mod maatregel;
pub mod signal;
pub mod token_key;
pub mod zorgmelding;
