//! [`MeldingRef`]: which melding Veilig Thuis works on — a police zorgmelding, or a signal a
//! school, GP, housing corporation or wijkteam sent it under the meldcode. Both are triaged,
//! decided, handed over and fed back the same way; this type is the one place that tells them
//! apart.
use super::{InvalidId, Oin, SignalId, ZorgmeldingId};
use std::fmt;
use std::str::FromStr;

/// The stored and logged form: the zorgmelding's id (`zm_…`) for a zorgmelding,
/// `signal/<sender OIN>/<signal id>` for a signal (no id holds a `/`, so the form is
/// unambiguous).
#[derive(Clone)]
pub struct MeldingRef(String, MeldingKind);

/// A [`MeldingRef`] taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeldingKind {
    /// A police zorgmelding.
    Zorgmelding(ZorgmeldingId),
    /// A signal: its sender and the sender's id for it.
    Signal(Oin, SignalId),
}

const SIGNAL_PREFIX: &str = "signal/";

impl MeldingRef {
    /// The melding that is this zorgmelding.
    pub fn zorgmelding(id: &ZorgmeldingId) -> Self {
        MeldingRef(id.to_string(), MeldingKind::Zorgmelding(id.clone()))
    }

    /// The melding that is this signal.
    pub fn signal(sender: &Oin, signal_id: &SignalId) -> Self {
        MeldingRef(
            format!("{SIGNAL_PREFIX}{}/{signal_id}", sender.as_str()),
            MeldingKind::Signal(sender.clone(), signal_id.clone()),
        )
    }

    /// Which kind of melding, with its ids.
    pub fn kind(&self) -> &MeldingKind {
        &self.1
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The zorgmelding id, when it is one.
    pub fn zorgmelding_id(&self) -> Option<&ZorgmeldingId> {
        match &self.1 {
            MeldingKind::Zorgmelding(id) => Some(id),
            MeldingKind::Signal(..) => None,
        }
    }
}

fn parse(s: &str) -> Result<MeldingKind, InvalidId> {
    match s.strip_prefix(SIGNAL_PREFIX) {
        Some(rest) => {
            let (oin, id) = rest.split_once('/').ok_or(InvalidId::Form)?;
            Ok(MeldingKind::Signal(
                oin.parse().map_err(|_| InvalidId::Form)?,
                id.parse()?,
            ))
        }
        None => Ok(MeldingKind::Zorgmelding(s.parse()?)),
    }
}

impl FromStr for MeldingRef {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, InvalidId> {
        parse(s).map(|k| MeldingRef(s.to_owned(), k))
    }
}

impl PartialEq for MeldingRef {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for MeldingRef {}

impl std::hash::Hash for MeldingRef {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.hash(h);
    }
}

impl AsRef<str> for MeldingRef {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<MeldingRef> for String {
    fn from(m: MeldingRef) -> String {
        m.0
    }
}

impl fmt::Display for MeldingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MeldingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl serde::Serialize for MeldingRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for MeldingRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn both_kinds_round_trip_and_nothing_else_parses() {
        let zm: ZorgmeldingId = "zm_abc".parse().unwrap();
        let m = MeldingRef::zorgmelding(&zm);
        assert_eq!(m.as_str(), "zm_abc");
        assert_eq!(m.kind(), &MeldingKind::Zorgmelding(zm));
        let oin: Oin = "00000001234567890000".parse().unwrap();
        let sid: SignalId = "s-1".parse().unwrap();
        let s = MeldingRef::signal(&oin, &sid);
        assert_eq!(s.as_str(), "signal/00000001234567890000/s-1");
        assert_eq!(s.as_str().parse::<MeldingRef>().unwrap(), s);
        assert_eq!(s.kind(), &MeldingKind::Signal(oin, sid));
        assert!(s.zorgmelding_id().is_none());
        for bad in [
            "",
            "signal/",
            "signal/123/s-1",
            "signal/00000001234567890000",
            "signal/00000001234567890000/",
            "signal/00000001234567890000/a/b",
            "zm_a b",
        ] {
            assert!(bad.parse::<MeldingRef>().is_err(), "{bad}");
        }
    }
}
