//! [`Id<K>`]: one identifier type per kind of record, so a consent id cannot be passed where a
//! case id belongs, and every id in the hub has one form.
use super::client::{has_digit_run, random, well_formed};
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

/// A kind of record with its own identifiers.
pub trait IdKind {
    /// The prefix of the ids the hub generates for this kind (`c_` for consents); empty for the
    /// kinds whose ids the client chooses.
    const PREFIX: &'static str;
}

/// An identifier of a `K` record: 1-64 of `A-Za-z0-9._-` ([`FromStr`], for references and stored
/// values). A new id the client chooses comes through [`Id::chosen`] (no run of 9 or more
/// digits); one the hub makes through [`Id::generate`] (letters only after the prefix).
pub struct Id<K>(pub(super) String, PhantomData<fn() -> K>);

/// Why a string is not an id of the form asked. Never echoes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidId {
    /// Empty, too long or a character outside `A-Za-z0-9._-`.
    #[error("1-64 of A-Za-z0-9._-")]
    Form,
    /// A run of 9 or more digits.
    #[error("{}", super::client::DIGIT_RUN)]
    DigitRun,
}

impl<K: IdKind> Id<K> {
    /// A new id the client chooses: well formed and without a run of 9 or more digits.
    pub fn chosen(s: &str) -> Result<Self, InvalidId> {
        let id: Self = s.parse()?;
        if has_digit_run(s) {
            return Err(InvalidId::DigitRun);
        }
        Ok(id)
    }

    /// A new random id: the kind's prefix and 128 bits as 32 letters (no digits); `None` when the
    /// system has no randomness.
    pub fn generate() -> Option<Self> {
        random(K::PREFIX).map(|s| Id(s, PhantomData))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<K> FromStr for Id<K> {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, InvalidId> {
        if well_formed(s) {
            Ok(Id(s.to_owned(), PhantomData))
        } else {
            Err(InvalidId::Form)
        }
    }
}

/// Reads as its text (lookups, binds, messages); only the constructors above make one.
impl<K> std::ops::Deref for Id<K> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<K> From<Id<K>> for String {
    fn from(id: Id<K>) -> String {
        id.0
    }
}

impl<K> AsRef<str> for Id<K> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        Id(self.0.clone(), PhantomData)
    }
}

impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K> Eq for Id<K> {}

impl<K> PartialEq<str> for Id<K> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl<K> PartialEq<&str> for Id<K> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl<K> PartialEq<String> for Id<K> {
    fn eq(&self, other: &String) -> bool {
        self.0 == *other
    }
}

impl<K> PartialEq<Id<K>> for str {
    fn eq(&self, other: &Id<K>) -> bool {
        self == other.0
    }
}

impl<K> PartialEq<Id<K>> for &str {
    fn eq(&self, other: &Id<K>) -> bool {
        *self == other.0
    }
}

impl<K> PartialEq<Id<K>> for String {
    fn eq(&self, other: &Id<K>) -> bool {
        *self == other.0
    }
}

impl<K> std::hash::Hash for Id<K> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.hash(h);
    }
}

impl<K> PartialOrd for Id<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Id<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<K> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<K> serde::Serialize for Id<K> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de, K> serde::Deserialize<'de> for Id<K> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

macro_rules! kinds {
    ($($(#[$doc:meta])* $alias:ident = $kind:ident($prefix:literal);)*) => {$(
        #[doc = concat!("The kind of [`", stringify!($alias), "`].")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $kind {}
        impl IdKind for $kind {
            const PREFIX: &'static str = $prefix;
        }
        $(#[$doc])*
        pub type $alias = Id<$kind>;
    )*};
}

kinds! {
    /// A signal's id, chosen by its sender (unique per sender).
    SignalId = Signal("");
    /// A recorded consent (`c_…`).
    ConsentId = Consent("c_");
    /// A case of the involvement register (`k_…`).
    CaseId = Case("k_");
    /// A zorgmelding (`zm_…`).
    ZorgmeldingId = Zorgmelding("zm_");
    /// A zorgmelding fragment, chosen by the police (unique per police OIN).
    FragmentId = Fragment("");
    /// A handover, chosen by the Veilig Thuis that hands over (unique per sender).
    HandoverId = Handover("");
    /// An agreement of a safety plan, chosen by the plan's author (unique per plan).
    AgreementId = Agreement("");
    /// Feedback to a melder, chosen by the Veilig Thuis that sends it (unique per sender).
    FeedbackId = Feedback("");
    /// An information request of Veilig Thuis, chosen by it (unique per Veilig Thuis).
    InformationRequestId = InformationRequest("");
    /// A request of the family about their data at one organisation (`fr_…`).
    FamilyRequestId = FamilyRequest("fr_");
    /// A triage (`tr_…`).
    TriageId = Triage("tr_");
    /// An involvement in the register (`i_…`).
    InvolvementId = Involvement("i_");
    /// A coordinator proposal (`p_…`).
    ProposalId = Proposal("p_");
    /// A registered maatregel (`m_…`).
    MaatregelId = Maatregel("m_");
    /// A maatregel query (`q_…`).
    QueryId = Query("q_");
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn chosen_ids_refuse_digit_runs_and_stored_ids_keep_their_form() {
        assert!(SignalId::chosen("s-1").is_ok());
        assert_eq!(SignalId::chosen("s-123456789"), Err(InvalidId::DigitRun));
        assert_eq!(SignalId::chosen("s 1"), Err(InvalidId::Form));
        // A hex id stored before the rule still reads back.
        assert!("c_0123456789abcdef".parse::<ConsentId>().is_ok());
        let c = ConsentId::generate().unwrap();
        assert!(c.as_str().starts_with("c_"));
        assert!(!has_digit_run(c.as_str()));
    }
}
