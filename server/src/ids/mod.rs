//! Identifier newtypes: validated at the edge, so the rest of the hub never sees a malformed one.
//!
//! A [`Bsn`] never leaves this module in the clear: its `Debug` and `Display` redact it, and the only
//! thing the hub keeps of it is the keyed [`SubjectPseudonym`] made by a [`Pseudonymizer`].
use ring::hmac;

mod client;
mod melding;
mod name;
mod stored;
mod typed;

pub use client::{DIGIT_RUN, has_digit_run, random as random_id, valid_client_id};
pub use melding::{MeldingKind, MeldingRef};
pub use name::{Category, InvalidName, Purpose, Role, parse_all as parse_names};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
pub use typed::{
    Agreement, Case, Consent, FamilyRequest, Feedback, Fragment, Handover, InformationRequest,
    Involvement, Maatregel, Proposal, Query, Signal, Triage, Zorgmelding,
};
pub use typed::{
    AgreementId, CaseId, ConsentId, FamilyRequestId, FeedbackId, FragmentId, HandoverId, Id,
    IdKind, InformationRequestId, InvalidId, InvolvementId, MaatregelId, ProposalId, QueryId,
    SignalId, TriageId, ZorgmeldingId,
};

/// Organisatie-identificatienummer: exactly 20 ASCII digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oin(String);

/// Why a string is not an OIN. Never echoes more than the length of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOin {
    /// Wrong number of characters.
    #[error("an OIN has exactly 20 digits, this one has {0} characters")]
    Length(usize),
    /// Something other than 0-9.
    #[error("an OIN consists of digits 0-9 only")]
    NotDigits,
}

impl Oin {
    /// The OIN as its 20 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Oin {
    type Err = InvalidOin;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != signaalhub_proto::OIN_LEN {
            return Err(InvalidOin::Length(s.chars().count()));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidOin::NotDigits);
        }
        Ok(Oin(s.to_owned()))
    }
}

/// Reads as its 20 digits (lookups, binds, comparisons); only [`FromStr`] makes one.
impl std::ops::Deref for Oin {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Oin {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Oin {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Oin {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Oin {
    fn eq(&self, other: &String) -> bool {
        self.0 == *other
    }
}

impl PartialEq<Oin> for str {
    fn eq(&self, other: &Oin) -> bool {
        self == other.0
    }
}

impl PartialEq<Oin> for &str {
    fn eq(&self, other: &Oin) -> bool {
        *self == other.0
    }
}

impl PartialEq<Oin> for String {
    fn eq(&self, other: &Oin) -> bool {
        *self == other.0
    }
}

impl From<Oin> for String {
    fn from(o: Oin) -> String {
        o.0
    }
}

impl fmt::Display for Oin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Oin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oin({})", self.0)
    }
}

/// The subject a request is about: a burgerservicenummer that passed the elfproef, or a
/// reference the hub issued for a person without a known BSN (`SH-` + 12 letters + a check
/// letter; docs/FAMILY.md, "Subjects without a BSN"). Either is turned into the same kind of
/// keyed pseudonym, so a reference behaves like a BSN everywhere. Its value is never displayed
/// or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Bsn(SubjectForm);

#[derive(Clone, PartialEq, Eq)]
enum SubjectForm {
    /// The nine digits of a BSN (values 0-9).
    Number([u8; 9]),
    /// The 13 letters of a reference after `SH-` (uppercase ASCII, the last the check letter).
    Reference([u8; 13]),
}

pub use signaalhub_proto::{REFERENCE_ALPHABET, REFERENCE_PREFIX};
use signaalhub_proto::{ReferenceProblem, reference_check};

/// What a subject field expects, named in every error about it.
pub const SUBJECT_FORMS: &str =
    "a BSN (9 digits, elfproef) or a subject reference from the hub (SH-…)";

/// Why a string is not a valid BSN or subject reference. Never contains the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBsn {
    /// Not 8 or 9 digits, nor a reference.
    #[error("{SUBJECT_FORMS}: a BSN has 9 digits (8 with the leading zero dropped)")]
    Length,
    /// Something other than 0-9, nor a reference.
    #[error("{SUBJECT_FORMS}: a BSN consists of digits 0-9 only")]
    NotDigits,
    /// The eleven test (elfproef) fails: most likely a typing error.
    #[error("{SUBJECT_FORMS}: this BSN fails the elfproef (check for a typing error)")]
    Elfproef,
    /// Starts `SH-` but is not 13 letters of the reference alphabet.
    #[error("{SUBJECT_FORMS}: a reference is SH- and 13 letters, without I, L, O or U")]
    Reference,
    /// The reference's check letter does not match: most likely a typing error.
    #[error(
        "{SUBJECT_FORMS}: this reference's check letter does not match (check for a typing error)"
    )]
    CheckLetter,
}

impl Bsn {
    /// A fresh subject reference from the system's secure random source (`None` when it fails).
    pub fn new_reference() -> Option<Bsn> {
        let rng = ring::rand::SystemRandom::new();
        loop {
            let mut raw = [0u8; 12];
            ring::rand::SecureRandom::fill(&rng, &mut raw).ok()?;
            // 22 * 11 = 242: bytes from 242 up would favour some letters; draw again.
            if raw.iter().any(|b| *b >= 242) {
                continue;
            }
            let mut values = [0u8; 13];
            for (v, r) in values.iter_mut().zip(raw) {
                *v = r % 22;
            }
            let check = reference_check(&values[..12]);
            if check >= 22 {
                continue;
            }
            values[12] = check as u8;
            let mut letters = [0u8; 13];
            for (l, v) in letters.iter_mut().zip(values) {
                *l = REFERENCE_ALPHABET[usize::from(v)];
            }
            return Some(Bsn(SubjectForm::Reference(letters)));
        }
    }

    /// Whether this is a hub-issued reference rather than a BSN.
    pub fn is_reference(&self) -> bool {
        matches!(self.0, SubjectForm::Reference(_))
    }

    /// The reference in its printed form (`SH-` + 13 uppercase letters), to hand to the
    /// organisation that asked for it; `None` for a BSN, whose digits are never revealed.
    pub fn reference_text(&self) -> Option<String> {
        match &self.0 {
            SubjectForm::Reference(l) => {
                let mut s = String::with_capacity(16);
                s.push_str(REFERENCE_PREFIX);
                s.extend(l.iter().map(|b| char::from(*b)));
                Some(s)
            }
            SubjectForm::Number(_) => None,
        }
    }
}

impl FromStr for Bsn {
    type Err = InvalidBsn;
    /// A BSN (the elfproef is the one in `signaalhub_proto::bsn_digits`, shared with the
    /// gateway) or a subject reference (`SH-`, any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use signaalhub_proto::BsnProblem;
        if let Some(r) = signaalhub_proto::subject_reference(s) {
            return r
                .map(|l| Bsn(SubjectForm::Reference(l)))
                .map_err(|p| match p {
                    ReferenceProblem::Form => InvalidBsn::Reference,
                    ReferenceProblem::CheckLetter => InvalidBsn::CheckLetter,
                });
        }
        signaalhub_proto::bsn_digits(s)
            .map(|d| Bsn(SubjectForm::Number(d)))
            .map_err(|p| match p {
                BsnProblem::Length => InvalidBsn::Length,
                BsnProblem::NotDigits => InvalidBsn::NotDigits,
                BsnProblem::Elfproef => InvalidBsn::Elfproef,
            })
    }
}

impl fmt::Debug for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bsn(<redacted>)")
    }
}

impl fmt::Display for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<bsn redacted>")
    }
}

/// The keyed pseudonym of a subject under one version of the hub's pseudonym key ring.
///
/// Version 1 is HMAC-SHA256(k1, "signaalhub/bsn/v1" || BSN), stored as 64 lowercase hex digits
/// (the form the hub has always stored). Version v > 1 chains from the previous version:
/// HMAC-SHA256(kv, "signaalhub/bsn/rekey" || the 32 bytes of version v-1), stored as `v<v>:` +
/// 64 hex digits, so every stored value says which key made it and a partly re-keyed store is
/// unambiguous. The same BSN always gives the same pseudonym per version; without the keys it
/// cannot be reversed by trying all 10^9 BSNs.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectPseudonym(String);

/// The highest key version a stored pseudonym may carry (a sanity bound on parsing).
pub const MAX_PSEUDONYM_VERSION: u32 = 9999;

impl SubjectPseudonym {
    /// The form kept in the store and the log.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Rebuild from the stored form: 64 lowercase hex digits (version 1) or `v<n>:` + 64 hex
    /// digits (version n ≥ 2).
    pub fn from_stored(s: &str) -> Option<Self> {
        parse_stored(s).map(|_| SubjectPseudonym(s.to_owned()))
    }
    /// The key version that made it.
    pub fn version(&self) -> u32 {
        parse_stored(&self.0).map_or(1, |(v, _)| v)
    }
    fn digest(&self) -> Option<[u8; 32]> {
        let (_, h) = parse_stored(&self.0)?;
        let b = hex::decode(h).ok()?;
        <[u8; 32]>::try_from(b.as_slice()).ok()
    }
    fn at(version: u32, digest: &[u8]) -> Self {
        if version == 1 {
            SubjectPseudonym(hex::encode(digest))
        } else {
            SubjectPseudonym(format!("v{version}:{}", hex::encode(digest)))
        }
    }
}

impl AsRef<str> for SubjectPseudonym {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// (version, hex digits) of a stored pseudonym.
fn parse_stored(s: &str) -> Option<(u32, &str)> {
    let (v, h) = match s.strip_prefix('v') {
        Some(rest) => {
            let (v, h) = rest.split_once(':')?;
            if v.is_empty() || v.starts_with('0') || !v.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let v: u32 = v.parse().ok()?;
            if !(2..=MAX_PSEUDONYM_VERSION).contains(&v) {
                return None;
            }
            (v, h)
        }
        None => (1, s),
    };
    (h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then_some((v, h))
}

/// The version of a stored pseudonym string, `None` when it is not one.
pub fn stored_version(s: &str) -> Option<u32> {
    parse_stored(s).map(|(v, _)| v)
}

impl fmt::Debug for SubjectPseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cut = self
            .0
            .len()
            .min(if self.0.starts_with('v') { 18 } else { 12 });
        write!(f, "SubjectPseudonym({}…)", &self.0[..cut])
    }
}

/// One person's pseudonyms under every version of the key ring, made from a BSN at the edge.
/// Writes use [`SubjectKey::current`]; lookups match any of [`SubjectKey::all`], so records
/// written under an older key are found until the re-key has moved them on.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SubjectKey {
    /// Version 1 first, the current version last; never empty.
    versions: Vec<SubjectPseudonym>,
}

impl SubjectKey {
    /// The pseudonym new records are written with (the ring's newest version).
    pub fn current(&self) -> &SubjectPseudonym {
        // `versions` is never empty (a ring has at least version 1).
        &self.versions[self.versions.len() - 1]
    }
    /// The stored form of [`SubjectKey::current`].
    pub fn as_str(&self) -> &str {
        self.current().as_str()
    }
    /// The pseudonym under every configured version, version 1 first.
    pub fn all(&self) -> &[SubjectPseudonym] {
        &self.versions
    }
    /// The version-1 pseudonym: stable across rotations, for request hashes (idempotency), never
    /// stored as such.
    pub fn root(&self) -> &SubjectPseudonym {
        &self.versions[0]
    }
    /// Whether a stored pseudonym (any version) is this person's.
    pub fn matches(&self, stored: &str) -> bool {
        self.versions.iter().any(|p| p.as_str() == stored)
    }
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectKey({:?})", self.current())
    }
}

/// The hub's pseudonym key ring: version 1 (`pseudonym.key_file`) and the later versions
/// (`pseudonym.rekey_files`). Turns BSNs into pseudonyms at the edge and moves stored pseudonyms
/// forward to the newest version. Old keys cannot be retired: every version chains from version 1.
#[derive(Clone)]
pub struct Pseudonymizer {
    /// `keys[0]` is version 1.
    keys: Arc<Vec<hmac::Key>>,
    /// The key version the store has been written with (`hub_meta.pseudonym_version`), as last
    /// seen by this instance: when it exceeds the ring, the instance serves nothing.
    store_version: Arc<AtomicU32>,
    /// The lowest key version the store may still hold (`hub_meta.pseudonym_floor`), as last
    /// seen: lookups by a stored pseudonym look further only while older versions may remain.
    store_floor: Arc<AtomicU32>,
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pseudonymizer(<{} secret(s)>)", self.keys.len())
    }
}

/// The smallest accepted pseudonym secret.
pub const MIN_PSEUDONYM_KEY_LEN: usize = 32;

const REKEY_LABEL: &[u8] = b"signaalhub/bsn/rekey\0";

impl Pseudonymizer {
    /// A ring of one key (version 1); `None` when it is shorter than 32 bytes.
    pub fn new(secret: &[u8]) -> Option<Self> {
        Self::ring(&[secret])
    }

    /// A ring: `secrets[0]` is version 1, the last the current version; `None` when it is empty
    /// or a secret is shorter than 32 bytes.
    pub fn ring(secrets: &[&[u8]]) -> Option<Self> {
        if secrets.is_empty()
            || secrets.len() > MAX_PSEUDONYM_VERSION as usize
            || secrets.iter().any(|s| s.len() < MIN_PSEUDONYM_KEY_LEN)
        {
            return None;
        }
        Some(Pseudonymizer {
            keys: Arc::new(
                secrets
                    .iter()
                    .map(|s| hmac::Key::new(hmac::HMAC_SHA256, s))
                    .collect(),
            ),
            store_version: Arc::new(AtomicU32::new(1)),
            store_floor: Arc::new(AtomicU32::new(1)),
        })
    }

    /// The newest version: the one new records are written with.
    pub fn version(&self) -> u32 {
        self.keys.len() as u32
    }

    /// The version-1 pseudonym of this BSN or reference (separate domains: the two forms can
    /// never give the same pseudonym).
    fn root_digest(&self, bsn: &Bsn) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.keys[0]);
        match &bsn.0 {
            SubjectForm::Number(digits) => {
                ctx.update(b"signaalhub/bsn/v1\0");
                let mut ascii = [0u8; 9];
                for (a, d) in ascii.iter_mut().zip(digits.iter()) {
                    *a = b'0' + d;
                }
                ctx.update(&ascii);
            }
            SubjectForm::Reference(letters) => {
                ctx.update(b"signaalhub/ref/v1\0");
                ctx.update(letters);
            }
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// One step of the chain: the version `to` digest from the version `to - 1` digest.
    fn step(&self, to: u32, prev: &[u8; 32]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.keys[to as usize - 1]);
        ctx.update(REKEY_LABEL);
        ctx.update(prev);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// This BSN's pseudonyms under every version of the ring.
    pub fn subject(&self, bsn: &Bsn) -> SubjectKey {
        let mut d = self.root_digest(bsn);
        let mut versions = vec![SubjectPseudonym::at(1, &d)];
        for v in 2..=self.version() {
            d = self.step(v, &d);
            versions.push(SubjectPseudonym::at(v, &d));
        }
        SubjectKey { versions }
    }

    /// The pseudonym of this BSN under the current version.
    pub fn pseudonym(&self, bsn: &Bsn) -> SubjectPseudonym {
        self.subject(bsn).current().clone()
    }

    /// A stored pseudonym under its own and every later version of the ring (its own first);
    /// `None` when it is malformed or newer than the ring.
    pub fn lift(&self, stored: &str) -> Option<Vec<SubjectPseudonym>> {
        let p = SubjectPseudonym::from_stored(stored)?;
        let from = p.version();
        if from > self.version() {
            return None;
        }
        let mut d = p.digest()?;
        let mut out = vec![p];
        for v in from + 1..=self.version() {
            d = self.step(v, &d);
            out.push(SubjectPseudonym::at(v, &d));
        }
        Some(out)
    }

    /// A stored pseudonym moved to the current version; `None` when it is malformed or newer
    /// than the ring.
    pub fn to_current(&self, stored: &str) -> Option<SubjectPseudonym> {
        self.lift(stored).and_then(|mut l| l.pop())
    }

    /// Whether two stored pseudonyms (any versions) name the same person.
    pub fn same_person(&self, a: &str, b: &str) -> bool {
        if a == b {
            return true;
        }
        match (self.to_current(a), self.to_current(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    }

    /// A keyed pseudonym of other identifiers (e.g. a professional's id), domain-separated by
    /// `label`; parts are length-prefixed so that no two inputs collide. Always under version 1:
    /// these values live only inside log leaves (`actor_pro`), which are never rewritten, so a
    /// newer key would only split a professional's trail at the rotation.
    pub fn keyed(&self, label: &str, parts: &[&str]) -> String {
        let mut ctx = hmac::Context::with_key(&self.keys[0]);
        ctx.update(label.as_bytes());
        ctx.update(&[0]);
        for p in parts {
            ctx.update(&(p.len() as u32).to_be_bytes());
            ctx.update(p.as_bytes());
        }
        hex::encode(ctx.sign().as_ref())
    }

    /// A check value for key version `v` (1-based) as the store keeps it (`hub_meta`), so that a
    /// changed key file is noticed at start instead of silently orphaning every record. It is an
    /// HMAC of a fixed label: it says nothing about the key.
    pub fn check_value(&self, v: u32) -> Option<i64> {
        let key = self.keys.get(v.checked_sub(1)? as usize)?;
        let tag = hmac::sign(key, b"signaalhub/pseudonym-key-check\0");
        let mut b = [0u8; 8];
        b.copy_from_slice(&tag.as_ref()[..8]);
        Some((u64::from_be_bytes(b) >> 1) as i64)
    }

    /// Records what the store last said: the version it is written with and the lowest version
    /// it may still hold.
    pub fn observe_store(&self, version: u32, floor: u32) {
        self.store_version.store(version, Ordering::Relaxed);
        self.store_floor.store(floor, Ordering::Relaxed);
    }

    /// The store's write version when it is newer than this ring (this instance must not serve).
    pub fn store_ahead(&self) -> Option<u32> {
        let v = self.store_version.load(Ordering::Relaxed);
        (v > self.version()).then_some(v)
    }

    /// Whether the store may still hold pseudonyms older than `version`, so a lookup by a stored
    /// pseudonym of that version must also compare older ones.
    pub fn older_may_remain(&self, version: u32) -> bool {
        self.store_floor.load(Ordering::Relaxed) < version
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn oin_validation() {
        assert!("00000001234567890000".parse::<Oin>().is_ok());
        assert_eq!("123".parse::<Oin>(), Err(InvalidOin::Length(3)));
        assert_eq!(
            "0000000123456789000a".parse::<Oin>(),
            Err(InvalidOin::NotDigits)
        );
    }

    #[test]
    fn bsn_elfproef() {
        // 111222333: 9+8+7+12+10+8+9+6-3 = 66 = 6*11.
        assert!("111222333".parse::<Bsn>().is_ok());
        assert_eq!("111222334".parse::<Bsn>(), Err(InvalidBsn::Elfproef));
        assert_eq!("000000000".parse::<Bsn>(), Err(InvalidBsn::Elfproef));
        assert_eq!("12345".parse::<Bsn>(), Err(InvalidBsn::Length));
        assert_eq!("11122233x".parse::<Bsn>(), Err(InvalidBsn::NotDigits));
        assert_eq!("SH-1234".parse::<Bsn>(), Err(InvalidBsn::Reference));
        // Leading zero dropped is the same number.
        let p = Pseudonymizer::new(&[7u8; 32]).unwrap();
        let a: Bsn = "012345672".parse().unwrap();
        let b: Bsn = "12345672".parse().unwrap();
        assert_eq!(p.pseudonym(&a), p.pseudonym(&b));
    }

    #[test]
    fn bsn_is_never_printed() {
        let b: Bsn = "111222333".parse().unwrap();
        assert!(!format!("{b:?} {b}").contains("111222333"));
        let p = Pseudonymizer::new(&[1u8; 32]).unwrap();
        let ps = p.pseudonym(&b);
        assert!(!ps.as_str().contains("111222333"));
        assert_eq!(ps.as_str().len(), 64);
        assert!(SubjectPseudonym::from_stored(ps.as_str()).is_some());
    }

    #[test]
    fn pseudonym_depends_on_the_secret() {
        let b: Bsn = "111222333".parse().unwrap();
        let p1 = Pseudonymizer::new(&[1u8; 32]).unwrap();
        let p2 = Pseudonymizer::new(&[2u8; 32]).unwrap();
        assert_ne!(p1.pseudonym(&b), p2.pseudonym(&b));
        assert!(Pseudonymizer::new(&[1u8; 31]).is_none());
    }

    #[test]
    fn version_one_is_unchanged_and_later_versions_chain() {
        let b: Bsn = "111222333".parse().unwrap();
        let one = Pseudonymizer::new(&[1u8; 32]).unwrap();
        let two = Pseudonymizer::ring(&[&[1u8; 32], &[2u8; 32]]).unwrap();
        let three = Pseudonymizer::ring(&[&[1u8; 32], &[2u8; 32], &[3u8; 32]]).unwrap();
        // Version 1 of a ring is exactly the single-key pseudonym (existing data stays valid).
        let k = three.subject(&b);
        assert_eq!(k.all().len(), 3);
        assert_eq!(k.root(), &one.pseudonym(&b));
        assert_eq!(k.all()[1], two.pseudonym(&b));
        assert_eq!(k.current(), &three.pseudonym(&b));
        assert_eq!(k.current().version(), 3);
        assert!(k.as_str().starts_with("v3:"));
        assert_eq!(k.all()[1].as_str().len(), 3 + 64);
        // Distinct values per version, all parseable, all matched by the key.
        for (i, p) in k.all().iter().enumerate() {
            assert_eq!(p.version(), i as u32 + 1);
            assert_eq!(SubjectPseudonym::from_stored(p.as_str()).as_ref(), Some(p));
            assert!(k.matches(p.as_str()));
        }
        assert_ne!(k.all()[0].as_str()[..], k.all()[1].as_str()[3..]);
        // Lifting a stored value gives its own and every later version; down is impossible.
        assert_eq!(three.lift(k.all()[0].as_str()).unwrap(), k.all().to_vec());
        assert_eq!(
            three.lift(k.all()[1].as_str()).unwrap(),
            k.all()[1..].to_vec()
        );
        assert_eq!(
            three.to_current(k.all()[0].as_str()).as_ref(),
            Some(k.current())
        );
        assert!(
            one.lift(k.all()[1].as_str()).is_none(),
            "newer than the ring"
        );
        assert!(three.same_person(k.all()[0].as_str(), k.all()[2].as_str()));
        let other: Bsn = "123456782".parse().unwrap();
        assert!(!three.same_person(k.all()[0].as_str(), three.subject(&other).as_str()));
        // A different later key gives a different chain from the same root.
        let two_b = Pseudonymizer::ring(&[&[1u8; 32], &[9u8; 32]]).unwrap();
        assert_eq!(two_b.subject(&b).root(), k.root());
        assert_ne!(two_b.subject(&b).current(), &k.all()[1]);
        // Professional pseudonyms stay on version 1.
        assert_eq!(
            three.keyed("signaalhub/professional/v1", &["x", "y"]),
            one.keyed("signaalhub/professional/v1", &["x", "y"])
        );
        assert!(Pseudonymizer::ring(&[]).is_none());
        assert!(Pseudonymizer::ring(&[&[1u8; 32], &[2u8; 31]]).is_none());
        assert_ne!(three.check_value(1), three.check_value(2));
        assert_eq!(three.check_value(1), one.check_value(1));
        assert!(three.check_value(4).is_none() && three.check_value(0).is_none());
    }

    #[test]
    fn stored_forms() {
        let h = "ab".repeat(32);
        assert_eq!(stored_version(&h), Some(1));
        assert_eq!(stored_version(&format!("v2:{h}")), Some(2));
        assert_eq!(stored_version(&format!("v12:{h}")), Some(12));
        for bad in [
            format!("v1:{h}"),
            format!("v02:{h}"),
            format!("v:{h}"),
            format!("v2{h}"),
            format!("V2:{h}"),
            format!("v2:{}", &h[1..]),
            format!("v99999:{h}"),
            h.to_uppercase(),
        ] {
            assert_eq!(stored_version(&bad), None, "{bad}");
        }
        // The erased marker (64 zeros) stays a well-formed version-1 value.
        assert_eq!(stored_version(&"0".repeat(64)), Some(1));
    }

    #[test]
    fn references_parse_in_any_case_and_never_print() {
        let r = Bsn::new_reference().unwrap();
        let text = r.reference_text().unwrap();
        assert_eq!(text.len(), 16);
        assert!(text.starts_with("SH-"));
        assert!(!text.bytes().any(|b| b.is_ascii_digit()));
        assert_eq!(text.parse::<Bsn>().unwrap(), r);
        assert_eq!(text.to_lowercase().parse::<Bsn>().unwrap(), r);
        assert!(r.is_reference());
        assert!(!format!("{r:?} {r}").contains(&text[3..]));
        let b: Bsn = "111222333".parse().unwrap();
        assert!(!b.is_reference() && b.reference_text().is_none());
        // Distinct references, distinct pseudonyms; never a BSN's.
        assert_ne!(Bsn::new_reference().unwrap(), r);
        let p = Pseudonymizer::new(&[1u8; 32]).unwrap();
        assert_ne!(p.pseudonym(&r), p.pseudonym(&b));
        for bad in [
            "SH-",
            "SH-ABC",
            "SH-ABCDEFGHJKMNPQ",
            "SH-ABCDEFGHIJKLM",
            "XX-ABCDEFGHJKMNP",
        ] {
            assert!(bad.parse::<Bsn>().is_err(), "{bad}");
        }
        for e in [
            InvalidBsn::Length,
            InvalidBsn::Reference,
            InvalidBsn::CheckLetter,
            InvalidBsn::Elfproef,
        ] {
            assert!(e.to_string().contains("SH-") && e.to_string().contains("BSN"));
        }
    }

    #[test]
    fn the_check_letter_catches_every_single_change_and_every_neighbour_swap() {
        for _ in 0..50 {
            let r = Bsn::new_reference().unwrap().reference_text().unwrap();
            let letters: Vec<u8> = r.bytes().skip(3).collect();
            for i in 0..13 {
                for c in REFERENCE_ALPHABET.iter().filter(|c| **c != letters[i]) {
                    let mut l = letters.clone();
                    l[i] = *c;
                    let s = format!("SH-{}", String::from_utf8(l).unwrap());
                    assert_eq!(s.parse::<Bsn>(), Err(InvalidBsn::CheckLetter), "{s}");
                }
                if i < 12 && letters[i] != letters[i + 1] {
                    let mut l = letters.clone();
                    l.swap(i, i + 1);
                    let s = format!("SH-{}", String::from_utf8(l).unwrap());
                    assert_eq!(s.parse::<Bsn>(), Err(InvalidBsn::CheckLetter), "{s}");
                }
            }
        }
    }

    #[test]
    fn bsn_pseudonyms_are_pinned() {
        // The BSN domain is unchanged by the reference form: existing pseudonyms stay valid.
        let p = Pseudonymizer::new(&[7u8; 32]).unwrap();
        let b: Bsn = "111222333".parse().unwrap();
        let mut ctx = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, &[7u8; 32]));
        ctx.update(b"signaalhub/bsn/v1\0");
        ctx.update(b"111222333");
        assert_eq!(p.pseudonym(&b).as_str(), hex::encode(ctx.sign().as_ref()));
    }

    proptest! {
        #[test]
        fn bsn_parse_never_panics(s in ".{0,20}") {
            let _ = s.parse::<Bsn>();
            let _ = s.parse::<Oin>();
        }

        #[test]
        fn a_single_digit_change_fails_the_elfproef(pos in 0usize..9, delta in 1u8..10) {
            let valid = "111222333";
            let mut d: Vec<u8> = valid.bytes().collect();
            d[pos] = b'0' + (d[pos] - b'0' + delta) % 10;
            let s = String::from_utf8(d).unwrap();
            prop_assert!(s.parse::<Bsn>().is_err());
        }
    }
}
