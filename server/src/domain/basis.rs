//! The basis a disclosure presents: a legal ground with its evidence, recorded consents, or both.
use signaalhub_policy as policy;

/// The legal basis whose use is an emergency ground (vital interest, art. 6(1)(d) AVG).
pub const EMERGENCY_BASIS: &str = "vitaal_belang";

/// The log's basis string that records a reporter's agreement to be named to the family
/// (`Evidence.reporter_may_be_named`); `domain::access` then does not withhold the reporter.
pub const REPORTER_MAY_BE_NAMED: &str = "melder:may_be_named";

/// A presented basis, as the hub keeps and decides on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Basis {
    /// A legal ground (convenant basis name) and the evidence given for it.
    pub legal: Option<policy::LegalBasisRecord>,
    /// Ids of recorded consents, in the order presented.
    pub consent_ids: Vec<crate::ids::ConsentId>,
}

impl Basis {
    /// The canonical reference an envelope's AAD binds (`EnvelopeBinding.basis_reference`):
    /// `legal:<basis>`, `consent:<id>,<id>`, or both joined by `;` (docs/ENVELOPE.md). The
    /// client side computes the same string in `signaalhub_proto::basis_reference`.
    pub fn reference(&self) -> String {
        let mut parts = Vec::new();
        if let Some(l) = &self.legal {
            parts.push(format!("legal:{}", l.basis));
        }
        if !self.consent_ids.is_empty() {
            let ids: Vec<&str> = self.consent_ids.iter().map(|c| c.as_str()).collect();
            parts.push(format!("consent:{}", ids.join(",")));
        }
        parts.join(";")
    }

    /// What a log entry records: `legal:<basis>`, [`REPORTER_MAY_BE_NAMED`] when the reporter
    /// agreed to be named, and one `consent:<id>` per consent.
    pub fn log_strings(&self) -> Vec<String> {
        let named = self.reporter_may_be_named();
        self.legal
            .as_ref()
            .map(|l| format!("legal:{}", l.basis))
            .into_iter()
            .chain(named.then(|| REPORTER_MAY_BE_NAMED.to_owned()))
            .chain(self.consent_ids.iter().map(|c| format!("consent:{c}")))
            .collect()
    }

    /// Whether the reporter agreed to be named to the family (`Evidence.reporter_may_be_named`).
    pub fn reporter_may_be_named(&self) -> bool {
        self.legal
            .as_ref()
            .is_some_and(|l| l.evidence.reporter_may_be_named == Some(true))
    }

    /// Whether nothing is presented (also what an erased basis reads as).
    pub fn is_empty(&self) -> bool {
        self.legal.is_none() && self.consent_ids.is_empty()
    }

    /// Whether the basis is an emergency ground.
    pub fn is_emergency(&self) -> bool {
        self.legal
            .as_ref()
            .is_some_and(|l| l.basis == EMERGENCY_BASIS)
    }

    /// The name of the legal ground, if any.
    pub fn legal_name(&self) -> Option<&str> {
        self.legal.as_ref().map(|l| l.basis.as_str())
    }
}
