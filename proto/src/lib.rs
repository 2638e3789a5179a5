//! The signaalhub wire contract, package `signaalhub.v1`, compiled without a system `protoc`.
//!
//! Generated types live in [`pb`]; both the server and client-lib convert them to their own
//! domain types at their edges.
#![forbid(unsafe_code)]

/// Generated protobuf and gRPC types for `signaalhub.v1`.
#[allow(
    missing_docs,
    missing_debug_implementations,
    clippy::all,
    clippy::pedantic
)]
pub mod pb {
    tonic::include_proto!("signaalhub.v1");
}

pub mod checkpoint;
pub mod envelope;
pub mod keyfile;
pub mod merkle;

/// The encoded `FileDescriptorSet` of the whole contract, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/signaalhub_descriptor.bin"));

/// Longest accepted OIN: exactly 20 ASCII digits.
pub const OIN_LEN: usize = 20;

/// The canonical basis reference an envelope's AAD binds (`EnvelopeBinding.basis_reference`):
/// `legal:<basis>` and/or `consent:<id>,<id>…` (joined by `;`, consents in the order given). The
/// hub refuses a signal whose envelope binds another basis than the request presents.
pub fn basis_reference(basis: &pb::Basis) -> String {
    let mut parts = Vec::new();
    if let Some(l) = &basis.legal {
        parts.push(format!("legal:{}", l.basis));
    }
    if !basis.consent_ids.is_empty() {
        parts.push(format!("consent:{}", basis.consent_ids.join(",")));
    }
    parts.join(";")
}

/// Why a string is not a valid BSN. Never contains the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BsnProblem {
    /// Not 8 or 9 characters.
    Length,
    /// Something other than 0-9.
    NotDigits,
    /// The eleven test (elfproef) fails: most likely a typing error.
    Elfproef,
}

/// The nine digits of a burgerservicenummer (8 digits: a leading zero dropped) that passes the
/// elfproef: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is a non-zero multiple of 11.
pub fn bsn_digits(s: &str) -> Result<[u8; 9], BsnProblem> {
    let b = s.as_bytes();
    if !(b.len() == 9 || b.len() == 8) {
        return Err(BsnProblem::Length);
    }
    if !b.iter().all(u8::is_ascii_digit) {
        return Err(BsnProblem::NotDigits);
    }
    let mut digits = [0u8; 9];
    let off = 9 - b.len();
    for (i, c) in b.iter().enumerate() {
        digits[off + i] = c - b'0';
    }
    let mut sum: i32 = 0;
    for (i, d) in digits.iter().take(8).enumerate() {
        sum += i32::from(*d) * (9 - i as i32);
    }
    sum -= i32::from(digits[8]);
    if sum == 0 || sum % 11 != 0 {
        return Err(BsnProblem::Elfproef);
    }
    Ok(digits)
}

/// How a subject reference starts: the hub issues `SH-` + 12 letters + a check letter for a
/// person without a known BSN (docs/FAMILY.md, "Subjects without a BSN").
pub const REFERENCE_PREFIX: &str = "SH-";

/// The letters of a subject reference: no I, L, O or U (never read as 1 or 0, never a word
/// that needs them); letters only, so a reference never looks like a BSN.
pub const REFERENCE_ALPHABET: &[u8; 22] = b"ABCDEFGHJKMNPQRSTVWXYZ";

/// The modulus of the check letter: prime, so every single changed letter and every swap of
/// two neighbouring letters changes it (a sum of 22 is never issued: the alphabet has 22 letters).
pub const REFERENCE_MODULUS: u32 = 23;

/// Why a string that starts `SH-` is not a subject reference. Never contains the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceProblem {
    /// Not 13 letters of [`REFERENCE_ALPHABET`] after the prefix.
    Form,
    /// The check letter does not match: most likely a typing error.
    CheckLetter,
}

/// The check value (0..23) of a reference's 12 data letters' values (their places in
/// [`REFERENCE_ALPHABET`]), weights 1..=12.
pub fn reference_check(values: &[u8]) -> u32 {
    values
        .iter()
        .zip(1u32..)
        .map(|(v, w)| u32::from(*v) * w)
        .sum::<u32>()
        % REFERENCE_MODULUS
}

/// `None` when `s` does not start with `SH-` (any case); otherwise the reference's 13 letters
/// after the prefix, uppercased, with a matching check letter, or why not. The one rule for the
/// hub, the client and the gateway.
pub fn subject_reference(s: &str) -> Option<Result<[u8; 13], ReferenceProblem>> {
    let prefix = s.get(..REFERENCE_PREFIX.len())?;
    if !prefix.eq_ignore_ascii_case(REFERENCE_PREFIX) {
        return None;
    }
    let b = &s.as_bytes()[REFERENCE_PREFIX.len()..];
    if b.len() != 13 {
        return Some(Err(ReferenceProblem::Form));
    }
    let mut values = [0u8; 13];
    for (v, c) in values.iter_mut().zip(b) {
        match REFERENCE_ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
        {
            Some(i) => *v = i as u8,
            None => return Some(Err(ReferenceProblem::Form)),
        }
    }
    if reference_check(&values[..12]) != u32::from(values[12]) {
        return Some(Err(ReferenceProblem::CheckLetter));
    }
    let mut out = [0u8; 13];
    for (o, v) in out.iter_mut().zip(values) {
        *o = REFERENCE_ALPHABET[usize::from(v)];
    }
    Some(Ok(out))
}

/// Whether `s` holds a run of 9 or more ASCII digits: what a BSN (or most other personal numbers)
/// would look like inside an identifier the hub stores or logs. The one rule for the hub, the
/// client and the gateway.
pub fn has_digit_run(s: &str) -> bool {
    let mut run = 0;
    for b in s.bytes() {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 9 {
            return true;
        }
    }
    false
}
