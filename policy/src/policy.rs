//! The compiled policy: the convenant indexed for fast decisions, plus the statutory floor.
//!
//! Names are interned into small integers, categories into a 128-bit set, and flows are indexed by
//! `(from_sector, to_sector, purpose)`, so that an allowed decision costs a handful of hash lookups
//! and bit operations. Denials build their explanations; they are rare and may be slower.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::floor::{BasisKind, EvidenceItem, is_valid_oin};
use crate::model::{Convenant, ObligationSpec};
use crate::names::{Names, same};
use crate::request::{
    Afwegingskader, AgeBand, ClientInformed, ConsentRecipient, ConsentSet, Decision,
    DecisionRequest, GiverCapacity, LegalBasisRecord, Obligation, Outcome, Reason, ReasonCode,
    SubjectFacts,
};

/// FNV-1a hasher for the interning maps. The maps are built from the convenant (trusted) and only
/// read with request strings, so collision attacks cannot grow them; FNV is several times faster
/// than SipHash on short identifiers.
#[derive(Default, Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

type Cats = u128;

#[derive(Clone, Debug)]
struct CBasis {
    name: Arc<str>,
    kind: BasisKind,
    art9: bool,
    /// An art. 10 ground (criminal-law data); only kinds that can be.
    art10: bool,
    evidence: Vec<EvidenceItem>,
    /// The floor's sector constraints of the kind as sector ids (`u16::MAX`: a sector the
    /// convenant does not declare, so no request sector matches it).
    required_to: Option<u16>,
    required_from: Option<u16>,
    forbidden_from: Option<u16>,
}

#[derive(Clone, Debug)]
struct CFlow {
    /// `flow:<id>`, the rule id in reasons.
    rule: String,
    from_roles: Vec<String>,
    cats: Cats,
    bases: Vec<u16>,
    obligations: Vec<ObligationSpec>,
    also_requires_consent: bool,
    requires_involvement: bool,
    onward_from: Vec<u16>,
    /// Precomputed rule lists for an allowed decision, indexed by [`rules_index`]`(route, art9,
    /// art10)`, where route `2i` is the flow's i-th basis, `2i + 1` that basis plus consent, and
    /// `2n` consent alone. Sharing them makes an allowed decision allocation-free.
    allow_rules: Vec<Vec<Arc<str>>>,
    /// `[flow:<id>]`, never used in practice (see `allowed`).
    flow_rule_only: Vec<Arc<str>>,
    /// The obligations of an allowed decision when they depend on nothing in the request (the
    /// flow has no `notify_sender`); `inform_subject` with a recorded exemption is built instead.
    plain_obligations: Option<Vec<Obligation>>,
    /// The flow has an `inform_subject` obligation.
    informs_subject: bool,
    /// `from_roles` as role ids.
    from_role_ids: Vec<u16>,
    /// The flow has a basis of kind consent.
    flow_consent: bool,
    /// The basis judging consent records (see `eval_flow`), as a basis index.
    consent_basis: Option<u16>,
}

/// A compiled convenant. Cheap to share (`Clone` copies the tables; wrap in `Arc` to share).
#[derive(Clone, Debug)]
pub struct Policy {
    convenant: Convenant,
    version: Arc<str>,
    sectors: FnvMap<String, u16>,
    sector_names: Vec<String>,
    sector_roles: Vec<Vec<String>>,
    shielded_sectors: Vec<String>,
    /// Per sector: `Some(oins)` when the convenant pins the parties of that sector by OIN.
    closed: Vec<Option<Names>>,
    purposes: FnvMap<String, u16>,
    purpose_names: Vec<String>,
    retention: Vec<u64>,
    categories: FnvMap<String, u8>,
    category_names: Vec<String>,
    art9_mask: Cats,
    /// Categories of criminal-law data (art. 10 AVG).
    art10_mask: Cats,
    bases: FnvMap<String, u16>,
    basis: Vec<CBasis>,
    flows: Vec<CFlow>,
    index: FnvMap<(u16, u16, u16), Vec<u32>>,
    /// The fast path's view of the same tables: names to ids without hashing the whole string.
    sector_ids: Names,
    purpose_ids: Names,
    category_ids: Names,
    basis_ids: Names,
    /// Every role of a sector or a flow.
    role_ids: Names,
    sector_role_ids: Vec<Vec<u16>>,
    /// `index` per sending sector: `(to << 16 | purpose, flows)`, in `index` order of flows.
    out_flows: Vec<Vec<(u32, Vec<u32>)>>,
}

/// What the fast path found for an allowed decision; `Policy::fast_decision` builds the decision.
/// Two words, so it travels in registers (a wider value spilled to the stack and read back with
/// one vector load stalled on store forwarding).
#[derive(Clone, Copy, Debug)]
struct FastAllow {
    /// The flow's index + 1 (non-zero, so `Option<FastAllow>` is two words too).
    flow: std::num::NonZeroU32,
    purpose: u16,
    rules_at: u16,
    relied: u64,
}

/// Reasons, built only when explaining. Decisions run once fast (counting failures, building no
/// text) and, only when denied, once more to explain: the allowed path allocates almost nothing.
#[derive(Clone, Debug)]
struct Why {
    explain: bool,
    count: usize,
    list: Vec<Reason>,
}

impl Why {
    fn new(explain: bool) -> Self {
        Self {
            explain,
            count: 0,
            list: Vec::new(),
        }
    }
    fn push(&mut self, f: impl FnOnce() -> Reason) {
        self.count += 1;
        if self.explain {
            self.list.push(f());
        }
    }
    fn len(&self) -> usize {
        self.count
    }
    fn is_empty(&self) -> bool {
        self.count == 0
    }
    fn append(&mut self, other: &mut Why) {
        self.count += other.count;
        self.list.append(&mut other.list);
        other.count = 0;
    }
}

struct Ctx<'r> {
    explain: bool,
    req: &'r DecisionRequest,
    to: u16,
    purpose: u16,
    cats: Cats,
}

/// The facts about the subject that the consent rules judge: those recorded with the first
/// presented consent that has any (each consent is about one subject, so these are that
/// subject's), else those stated at sending. `Err(recorded)` when the statement contradicts them.
fn judged_subject(req: &DecisionRequest) -> Result<&SubjectFacts, &SubjectFacts> {
    match req.basis.consents.iter().find_map(|c| c.facts.as_ref()) {
        None => Ok(&req.subject),
        Some(recorded) if req.subject.is_stated() && req.subject.contradicts(recorded) => {
            Err(recorded)
        }
        Some(recorded) => Ok(recorded),
    }
}

/// Recorded facts in a reason: the age band and how many holders of gezag.
fn facts_text(f: &SubjectFacts) -> String {
    let band = match f.age.band() {
        Some(AgeBand::Under12) => "under_12",
        Some(AgeBand::From12To15) => "12_to_15",
        Some(AgeBand::From16To17) => "16_to_17",
        Some(AgeBand::Adult) => "adult",
        None => "age unknown",
    };
    format!("{band}, {} gezag", f.gezag_holders.len())
}

fn reason(code: ReasonCode, rule: impl Into<String>, nl: String, en: String) -> Reason {
    Reason {
        code,
        rule: rule.into(),
        nl,
        en,
    }
}

impl Convenant {
    /// Compile into a [`Policy`].
    pub fn compile(&self) -> Policy {
        Policy::new(self.clone())
    }
}

impl Policy {
    /// Compile a validated convenant.
    pub fn new(convenant: Convenant) -> Self {
        let shielded_sectors = convenant
            .sectors
            .iter()
            .filter(|s| s.shielded)
            .map(|s| s.name.clone())
            .collect();
        let mut sectors = FnvMap::default();
        let mut sector_names = Vec::new();
        let mut sector_roles = Vec::new();
        for (i, s) in convenant.sectors.iter().enumerate() {
            sectors.insert(s.name.clone(), i as u16);
            sector_names.push(s.name.clone());
            sector_roles.push(s.roles.clone());
        }
        let mut closed_oins: Vec<Option<Vec<&str>>> = vec![None; sector_names.len()];
        for p in &convenant.parties {
            if let (Some(oin), Some(&sid)) = (&p.oin, sectors.get(&p.sector))
                && let Some(slot) = closed_oins.get_mut(usize::from(sid))
            {
                slot.get_or_insert_with(Vec::new).push(oin.as_str());
            }
        }
        let closed: Vec<Option<Names>> = closed_oins
            .into_iter()
            .map(|o| o.map(|oins| Names::new(oins.into_iter().map(|o| (o, 0)))))
            .collect();
        let mut purposes = FnvMap::default();
        let mut purpose_names = Vec::new();
        let mut retention = Vec::new();
        for (i, p) in convenant.purposes.iter().enumerate() {
            purposes.insert(p.name.clone(), i as u16);
            purpose_names.push(p.name.clone());
            retention.push(p.retention_secs);
        }
        let mut categories = FnvMap::default();
        let mut category_names = Vec::new();
        let mut art9_mask: Cats = 0;
        let mut art10_mask: Cats = 0;
        // parse() caps categories at 128, so `i` fits the set.
        for (i, c) in convenant.categories.iter().enumerate().take(128) {
            categories.insert(c.name.clone(), i as u8);
            category_names.push(c.name.clone());
            if c.art9 {
                art9_mask |= 1u128 << i;
            }
            if c.art10 {
                art10_mask |= 1u128 << i;
            }
        }
        let mut bases = FnvMap::default();
        let mut basis = Vec::new();
        let sector_of = |name: &str| sectors.get(name).copied().unwrap_or(u16::MAX);
        for (i, b) in convenant.bases.iter().enumerate() {
            bases.insert(b.name.clone(), i as u16);
            basis.push(CBasis {
                name: Arc::from(b.name.as_str()),
                kind: b.kind,
                art9: b.art9 && b.kind.may_cover_art9(),
                art10: b.art10 && b.kind.may_cover_art10(),
                evidence: b.evidence.clone(),
                required_to: b.kind.required_to_sector().map(sector_of),
                required_from: b.kind.required_from_sector().map(sector_of),
                forbidden_from: b.kind.forbidden_from_sector().map(sector_of),
            });
        }
        let mut role_list: Vec<&str> = Vec::new();
        for r in convenant
            .sectors
            .iter()
            .flat_map(|s| s.roles.iter())
            .chain(convenant.flows.iter().flat_map(|f| f.from_roles.iter()))
        {
            if !role_list.contains(&r.as_str()) {
                role_list.push(r.as_str());
            }
        }
        let role_ids = Names::new(role_list.iter().enumerate().map(|(i, r)| (*r, i as u16)));
        let role_id = |r: &String| role_ids.get(r).unwrap_or(u16::MAX);
        let sector_role_ids: Vec<Vec<u16>> = sector_roles
            .iter()
            .map(|rs: &Vec<String>| rs.iter().map(role_id).collect())
            .collect();
        let mut flows = Vec::new();
        let mut index: FnvMap<(u16, u16, u16), Vec<u32>> = FnvMap::default();
        for f in &convenant.flows {
            let Some(&purpose) = purposes.get(&f.purpose) else {
                continue;
            };
            let mut cats: Cats = 0;
            for c in &f.categories {
                if let Some(&ci) = categories.get(c) {
                    cats |= 1u128 << ci;
                }
            }
            let fid = flows.len() as u32;
            let flow_bases: Vec<u16> = f
                .bases
                .iter()
                .filter_map(|b| bases.get(b).copied())
                .collect();
            let allow_rules = allow_rule_table(&f.id, &flow_bases, &basis, f.also_requires_consent);
            let basis_kind = |b: u16| basis.get(usize::from(b)).map(|cb| cb.kind);
            let flow_consent = flow_bases
                .iter()
                .copied()
                .find(|&b| basis_kind(b) == Some(BasisKind::Consent));
            let consent_basis = flow_consent.or(if f.also_requires_consent {
                basis
                    .iter()
                    .position(|cb| cb.kind == BasisKind::Consent)
                    .map(|i| i as u16)
            } else {
                None
            });
            let plain_obligations = f
                .obligations
                .iter()
                .map(|o| match o {
                    ObligationSpec::InformSubject => Some(Obligation::InformSubject),
                    ObligationSpec::NotifySector(s) => {
                        Some(Obligation::NotifySector { sector: s.clone() })
                    }
                    ObligationSpec::ConfirmInWriting => Some(Obligation::ConfirmInWriting),
                    ObligationSpec::NotifySender => None,
                })
                .collect::<Option<Vec<_>>>();
            flows.push(CFlow {
                allow_rules,
                flow_rule_only: vec![Arc::from(f.id.as_str())],
                plain_obligations,
                informs_subject: f.obligations.contains(&ObligationSpec::InformSubject),
                from_role_ids: f.from_roles.iter().map(role_id).collect(),
                flow_consent: flow_consent.is_some(),
                consent_basis,
                rule: format!("flow:{}", f.id),
                from_roles: f.from_roles.clone(),
                cats,
                bases: flow_bases,
                obligations: f.obligations.clone(),
                also_requires_consent: f.also_requires_consent,
                requires_involvement: f.requires_involvement,
                onward_from: f
                    .onward_from
                    .iter()
                    .filter_map(|p| purposes.get(p).copied())
                    .collect(),
            });
            for from in &f.from {
                for to in &f.to {
                    if let (Some(&a), Some(&b)) = (sectors.get(from), sectors.get(to)) {
                        index.entry((a, b, purpose)).or_default().push(fid);
                    }
                }
            }
        }
        let version: Arc<str> = Arc::from(convenant.policy_version().as_str());
        let mut out_flows: Vec<Vec<(u32, Vec<u32>)>> = vec![Vec::new(); sector_names.len()];
        for (&(a, b, p), fids) in &index {
            if let Some(list) = out_flows.get_mut(usize::from(a)) {
                list.push(((u32::from(b) << 16) | u32::from(p), fids.clone()));
            }
        }
        let ids = |names: &[String]| -> Names {
            Names::new(
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.as_str(), i as u16)),
            )
        };
        let sector_ids = ids(&sector_names);
        let purpose_ids = ids(&purpose_names);
        let category_ids = ids(&category_names);
        let basis_ids = Names::new(
            convenant
                .bases
                .iter()
                .enumerate()
                .map(|(i, b)| (b.name.as_str(), i as u16)),
        );
        Self {
            sector_ids,
            purpose_ids,
            category_ids,
            basis_ids,
            role_ids,
            sector_role_ids,
            out_flows,
            convenant,
            version,
            sectors,
            shielded_sectors,
            sector_names,
            sector_roles,
            closed,
            purposes,
            purpose_names,
            retention,
            categories,
            category_names,
            art9_mask,
            art10_mask,
            bases,
            basis,
            flows,
            index,
        }
    }

    /// The convenant this policy was compiled from.
    pub fn convenant(&self) -> &Convenant {
        &self.convenant
    }

    /// `version+fnv1a64:<hash>`: log it with every disclosure.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Retention of a purpose in seconds.
    pub fn retention_for(&self, purpose: &str) -> Option<u64> {
        let p = *self.purposes.get(purpose)?;
        self.retention.get(usize::from(p)).copied()
    }

    /// The recidive window in seconds (default 12 months = 365 days).
    pub fn recidive_window_secs(&self) -> u64 {
        self.convenant.recidive_window_secs
    }

    /// How long a wijkteam has to answer a delivered handover, in seconds (default one week).
    pub fn handover_answer_secs(&self) -> u64 {
        self.convenant.handover_answer_secs
    }

    /// How long an organisation has to inform the family of a disclosure before the obligation
    /// is overdue, in seconds (default one month).
    pub fn inform_within_secs(&self) -> u64 {
        self.convenant.inform_within_secs
    }

    /// Whether consent for a child under 16 needs every holder of gezag.
    pub fn consent_requires_all_gezag_holders(&self) -> bool {
        self.convenant.consent_requires_all_gezag_holders
    }

    /// Is this a sector taking part in the convenant?
    pub fn is_known_sector(&self, sector: &str) -> bool {
        self.sectors.contains_key(sector)
    }

    /// Is this sector shielded from the family's view (`shielded = true`, e.g. vrouwenopvang)?
    pub fn is_shielded_sector(&self, sector: &str) -> bool {
        self.shielded_sectors.iter().any(|s| s == sector)
    }

    /// Is this a declared purpose?
    pub fn is_known_purpose(&self, purpose: &str) -> bool {
        self.purposes.contains_key(purpose)
    }

    /// Is this a declared category?
    pub fn is_known_category(&self, category: &str) -> bool {
        self.categories.contains_key(category)
    }

    /// Is this a declared basis?
    pub fn is_known_basis(&self, basis: &str) -> bool {
        self.bases.contains_key(basis)
    }

    /// Is this category criminal-law data (art. 10 AVG)? `None` when unknown.
    pub fn is_art10_category(&self, category: &str) -> Option<bool> {
        let &c = self.categories.get(category)?;
        Some(self.art10_mask & (1u128 << c) != 0)
    }

    /// Is this category special (art. 9 AVG)? `None` when unknown.
    pub fn is_art9_category(&self, category: &str) -> Option<bool> {
        let c = *self.categories.get(category)?;
        Some(self.art9_mask & (1u128 << c) != 0)
    }

    /// The kind of a declared basis.
    pub fn basis_kind(&self, basis: &str) -> Option<BasisKind> {
        let b = *self.bases.get(basis)?;
        self.basis.get(usize::from(b)).map(|b| b.kind)
    }

    /// Roles of a sector; `None` when the sector does not take part.
    pub fn roles_for_sector(&self, sector: &str) -> Option<&[String]> {
        let s = *self.sectors.get(sector)?;
        self.sector_roles.get(usize::from(s)).map(Vec::as_slice)
    }

    /// Sectors taking part, in file order.
    pub fn sectors(&self) -> &[String] {
        &self.sector_names
    }

    /// Purposes, in file order.
    pub fn purposes(&self) -> &[String] {
        &self.purpose_names
    }

    /// Categories, in file order.
    pub fn categories(&self) -> &[String] {
        &self.category_names
    }

    /// May an organisation of this sector with this OIN take part (closed sectors list their OINs)?
    pub fn is_party(&self, sector: &str, oin: &str) -> bool {
        match self.sectors.get(sector) {
            Some(&s) => self.party_ok(s, oin),
            None => false,
        }
    }

    fn party_ok(&self, sector: u16, oin: &str) -> bool {
        match self.closed.get(usize::from(sector)) {
            Some(Some(set)) => set.get(oin).is_some(),
            Some(None) => true,
            None => false,
        }
    }

    fn cat_list(&self, cats: Cats) -> String {
        let mut out = Vec::new();
        for (i, n) in self.category_names.iter().enumerate() {
            if cats & (1u128 << i) != 0 {
                out.push(n.as_str());
            }
        }
        out.join(", ")
    }

    fn deny(&self, mut reasons: Vec<Reason>) -> Decision<'_> {
        if reasons.is_empty() {
            // Deny by default must always say why.
            reasons.push(reason(
                ReasonCode::NoBasis,
                "floor:deny-by-default",
                "er is geen grondslag voor deze verstrekking".into(),
                "there is no basis for this disclosure".into(),
            ));
        }
        let mut seen = HashSet::new();
        reasons.retain(|r| seen.insert((r.code, r.nl.clone())));
        let mut rules: Vec<Arc<str>> = Vec::new();
        for r in &reasons {
            if !rules.iter().any(|x| **x == *r.rule) {
                rules.push(Arc::from(r.rule.as_str()));
            }
        }
        Decision {
            outcome: Outcome::Deny,
            rules: Cow::Owned(rules),
            obligations: Cow::Borrowed(&[]),
            retain_until: None,
            consents_relied_on: ConsentSet::EMPTY,
            reasons,
            policy_version: Cow::Borrowed(&self.version),
        }
    }

    /// Decide one disclosure. Deny by default: allowed only when a flow of the convenant matches
    /// sender sector and role, recipient sector, purpose and every category, and a basis of that
    /// flow is satisfied with its evidence, and every rule of the statutory floor holds.
    pub fn decide(&self, req: &DecisionRequest) -> Decision<'_> {
        let fast = self.fast(req);
        // The fast path is exact: it allows precisely when the full run does, with the same
        // decision. Debug builds (and so every test) check that on each call.
        debug_assert_eq!(
            fast.and_then(|a| self.fast_decision(a, req)).as_ref(),
            self.run(req, false).ok().as_ref(),
            "fast path differs from the full run"
        );
        // Returned directly (no `Option<Decision>` in between), so that the decision is written
        // once, into the caller's slot.
        if let Some(a) = fast
            && let Some(flow) = self.flows.get(a.flow.get() as usize - 1)
        {
            return self.allowed(
                flow,
                req,
                a.purpose,
                usize::from(a.rules_at),
                ConsentSet::from_bits(a.relied),
            );
        }
        self.decide_slow(req)
    }

    /// `decide` when the fast path found no allowing flow: the full run, and its explanation.
    #[inline(never)]
    fn decide_slow(&self, req: &DecisionRequest) -> Decision<'_> {
        match self.run(req, false) {
            Ok(decision) => decision,
            // Denied: run again, this time building the explanations. The run is deterministic,
            // so it denies again; should it not, its (fully checked) answer is used.
            Err(_) => match self.run(req, true) {
                Ok(decision) => decision,
                Err(why) => self.deny(why.list),
            },
        }
    }

    /// The allowed decision, computed on interned ids without building any reason, or `None` when
    /// the request is denied. Mirrors `run(req, false)` check for check (see `decide`).
    #[inline(always)]
    fn fast_decision(&self, a: FastAllow, req: &DecisionRequest) -> Option<Decision<'_>> {
        let flow = self.flows.get(a.flow.get() as usize - 1)?;
        Some(self.allowed(
            flow,
            req,
            a.purpose,
            usize::from(a.rules_at),
            ConsentSet::from_bits(a.relied),
        ))
    }

    #[inline(never)]
    fn fast(&self, req: &DecisionRequest) -> Option<FastAllow> {
        let from = self.sector_ids.get(&req.actor.sector)?;
        let to = self.sector_ids.get(&req.recipient.sector)?;
        let purpose = self.purpose_ids.get(&req.purpose)?;
        if req.categories.is_empty() {
            return None;
        }
        let mut cats: Cats = 0;
        for c in &req.categories {
            cats |= 1u128 << self.category_ids.get(c)?;
        }
        let received = match &req.received_for {
            Some(rf) => Some(self.purpose_ids.get(rf)?),
            None => None,
        };
        if !is_valid_oin(&req.actor.oin) || !is_valid_oin(&req.recipient.oin) {
            return None;
        }
        let legal = match &req.basis.legal {
            Some(l) => {
                let bid = self.basis_ids.get(&l.basis)?;
                let cb = self.basis.get(usize::from(bid))?;
                // The floor pre-check (`floor_legal_basis`), by ids.
                let to_ok = cb.required_to.is_none_or(|r| r == to);
                let from_ok =
                    cb.required_from.is_none_or(|r| r == from) && cb.forbidden_from != Some(from);
                if !to_ok || !from_ok || cb.kind == BasisKind::Consent {
                    return None;
                }
                Some((l, bid, cb))
            }
            None => None,
        };
        if !self.party_ok(from, &req.actor.oin) || !self.party_ok(to, &req.recipient.oin) {
            return None;
        }
        let role = self.role_ids.get(&req.actor.role)?;
        if !self.sector_role_ids.get(usize::from(from))?.contains(&role) {
            return None;
        }
        let key = (u32::from(to) << 16) | u32::from(purpose);
        let (_, candidates) = self
            .out_flows
            .get(usize::from(from))?
            .iter()
            .find(|(k, _)| *k == key)?;
        let has_art9 = cats & self.art9_mask != 0;
        let has_art10 = cats & self.art10_mask != 0;
        for &fid in candidates {
            let Some(flow) = self.flows.get(fid as usize) else {
                continue;
            };
            // The flow's own conditions (`eval_flow`).
            if !flow.from_role_ids.is_empty() && !flow.from_role_ids.contains(&role) {
                continue;
            }
            if cats & !flow.cats != 0 || (flow.requires_involvement && !req.recipient_involved) {
                continue;
            }
            if let Some(rp) = received
                && rp != purpose
                && !flow.onward_from.contains(&rp)
            {
                continue;
            }
            let legal_ok = legal.and_then(|(l, bid, cb)| {
                let pos = flow.bases.iter().position(|&b| b == bid)?;
                self.legal_holds(cb, l, req, has_art9, has_art10)
                    .then_some(pos)
            });
            let consent_ok = if req.basis.consents.is_empty() {
                None
            } else {
                flow.consent_basis
                    .and_then(|b| self.basis.get(usize::from(b)))
                    .and_then(|cb| self.consents_hold(cb, req, cats))
            };
            let via_legal =
                legal_ok.is_some() && (!flow.also_requires_consent || consent_ok.is_some());
            // Consent is never the ground for criminal-law data (floor: art. 10).
            let via_consent = flow.flow_consent && consent_ok.is_some() && !has_art10;
            if !(via_legal || via_consent) {
                continue;
            }
            let route = match legal_ok {
                Some(pos) if via_legal => pos * 2 + usize::from(consent_ok.is_some()),
                _ => flow.bases.len() * 2,
            };
            return Some(FastAllow {
                flow: std::num::NonZeroU32::new(fid.checked_add(1)?)?,
                purpose,
                rules_at: u16::try_from(rules_index(route, has_art9, has_art10)).ok()?,
                relied: consent_ok.unwrap_or(0),
            });
        }
        None
    }

    /// Does a legal basis hold with its evidence (`check_legal` without reasons, after the floor
    /// pre-check passed)?
    fn legal_holds(
        &self,
        cb: &CBasis,
        legal: &LegalBasisRecord,
        req: &DecisionRequest,
        has_art9: bool,
        has_art10: bool,
    ) -> bool {
        if has_art9 && !(cb.art9 && cb.kind.may_cover_art9()) {
            return false;
        }
        if has_art10 && !(cb.art10 && cb.kind.may_cover_art10()) {
            return false;
        }
        let ev = &legal.evidence;
        let filled = |s: &Option<String>| s.as_deref().is_some_and(not_blank);
        cb.evidence.iter().all(|item| match item {
            EvidenceItem::MeldcodeSteps => {
                let mut steps = 0u32;
                for &s in &ev.meldcode_steps_completed {
                    if s < 32 {
                        steps |= 1 << s;
                    }
                }
                steps & 0b1_1110 == 0b1_1110
            }
            EvidenceItem::Afwegingskader => matches!(
                ev.afwegingskader,
                Some(a) if a != Afwegingskader::GeenVermoeden
            ),
            EvidenceItem::ClientInformed => match &ev.client_informed {
                None => false,
                Some(ClientInformed::No { reason: r }) => not_blank(r),
                Some(ClientInformed::Yes) => true,
            },
            EvidenceItem::RegistrationNumber => filled(&ev.registration_number),
            EvidenceItem::CaseReference => filled(&ev.case_reference),
            EvidenceItem::PaymentReminderSent => ev.payment_reminder_sent == Some(true),
            EvidenceItem::MaatregelReference => filled(&ev.maatregel_reference),
            EvidenceItem::RecipientInvolved => req.recipient_involved,
            EvidenceItem::VitalInterestReason => filled(&ev.vital_interest_reason),
            EvidenceItem::SubjectUnableToConsent => ev.subject_unable_to_consent == Some(true),
            EvidenceItem::Giver
            | EvidenceItem::Recipients
            | EvidenceItem::Purposes
            | EvidenceItem::Categories
            | EvidenceItem::Period
            | EvidenceItem::Explicit => false,
        })
    }

    /// Do the consent records hold for every category (`check_consents` without reasons)? The
    /// bit set of the records relied on (first 64 records), or `None`.
    fn consents_hold(&self, cb: &CBasis, req: &DecisionRequest, cats: Cats) -> Option<u64> {
        let subject = judged_subject(req).ok()?;
        let band = subject.age.band()?;
        let now = req.now;
        let consents = req.basis.consents.get(..req.basis.consents.len().min(64))?;
        let (to_oin, to_sector) = (
            req.recipient.oin.as_bytes(),
            req.recipient.sector.as_bytes(),
        );
        let purpose = req.purpose.as_bytes();
        let mut usable: u64 = 0;
        for (ri, rec) in consents.iter().enumerate() {
            if rec.withdrawn
                || now < rec.valid_from
                || now >= rec.valid_until
                || !(rec.disclosers.is_empty()
                    || rec
                        .disclosers
                        .iter()
                        .any(|d| same(d.as_bytes(), req.actor.oin.as_bytes())))
            {
                continue;
            }
            let covers_recipient = rec.recipients.iter().any(|r| match r {
                ConsentRecipient::Oin(o) => same(o.as_bytes(), to_oin),
                ConsentRecipient::Sector(s) => same(s.as_bytes(), to_sector),
            });
            if covers_recipient && rec.purposes.iter().any(|p| same(p.as_bytes(), purpose)) {
                usable |= 1u64 << ri;
            }
        }
        if usable == 0 {
            return None;
        }
        let holders = &subject.gezag_holders;
        let needs_parent = matches!(band, AgeBand::Under12 | AgeBand::From12To15);
        if needs_parent && holders.is_empty() {
            return None;
        }
        let all_holders = match holders.len() {
            n if n > 64 => None,
            64 => Some(u64::MAX),
            n => Some((1u64 << n) - 1),
        };
        let all_gezag = self.convenant.consent_requires_all_gezag_holders;
        let mut used: u64 = 0;
        let mut rest = cats;
        while rest != 0 {
            let ci = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            let cname = self.category_names.get(ci)?.as_bytes();
            let art9 = (self.art9_mask >> ci) & 1 != 0;
            let (mut subject_gave, mut holders_gave, mut any_cover) = (false, 0u64, false);
            let mut recs = usable;
            while recs != 0 {
                let ri = recs.trailing_zeros() as usize;
                recs &= recs - 1;
                let rec = consents.get(ri)?;
                if (art9 && !(rec.explicit && cb.art9))
                    || !rec.categories.iter().any(|c| same(c.as_bytes(), cname))
                {
                    continue;
                }
                any_cover = true;
                for g in &rec.givers {
                    match g.capacity {
                        GiverCapacity::Subject => subject_gave = true,
                        GiverCapacity::GezagHolder => {
                            let person = g.person.as_bytes();
                            if let Some(hi) = holders
                                .iter()
                                .take(64)
                                .position(|h| same(h.as_bytes(), person))
                            {
                                holders_gave |= 1u64 << hi;
                            }
                        }
                    }
                }
                used |= 1u64 << ri;
            }
            if !any_cover {
                return None;
            }
            let needs_subject = match band {
                AgeBand::From16To17 | AgeBand::Adult => true,
                AgeBand::From12To15 => art9,
                AgeBand::Under12 => false,
            };
            if needs_subject && !subject_gave {
                return None;
            }
            if needs_parent {
                let fails = if all_gezag {
                    all_holders != Some(holders_gave)
                } else {
                    holders_gave == 0
                };
                if fails {
                    return None;
                }
            }
        }
        Some(used)
    }

    fn run(&self, req: &DecisionRequest, explain: bool) -> Result<Decision<'_>, Why> {
        let mut reasons = Why::new(explain);
        let from = self.sector_id(&req.actor.sector, "afzender", "sender", &mut reasons);
        let to = self.sector_id(
            &req.recipient.sector,
            "ontvanger",
            "recipient",
            &mut reasons,
        );
        let purpose = match self.purposes.get(req.purpose.as_str()) {
            Some(&p) => Some(p),
            None => {
                reasons.push(|| {
                    reason(
                        ReasonCode::UnknownPurpose,
                        "convenant:purposes",
                        format!("doel `{}` staat niet in het convenant", req.purpose),
                        format!("purpose `{}` is not in the convenant", req.purpose),
                    )
                });
                None
            }
        };
        let mut cats: Cats = 0;
        for c in &req.categories {
            match self.categories.get(c.as_str()) {
                Some(&ci) => cats |= 1u128 << ci,
                None => reasons.push(|| {
                    reason(
                        ReasonCode::UnknownCategory,
                        "convenant:categories",
                        format!("categorie `{c}` staat niet in het convenant"),
                        format!("category `{c}` is not in the convenant"),
                    )
                }),
            }
        }
        if req.categories.is_empty() {
            reasons.push(|| {
                reason(
                    ReasonCode::NoCategories,
                    "floor:data-minimisation",
                    "er is geen gegevenscategorie genoemd".into(),
                    "no data category is named".into(),
                )
            });
        }
        if let Some(rf) = &req.received_for
            && !self.purposes.contains_key(rf.as_str())
        {
            reasons.push(|| reason(
                    ReasonCode::UnknownPurpose,
                    "convenant:purposes",
                    format!("het doel waarvoor de gegevens zijn ontvangen (`{rf}`) staat niet in het convenant"),
                    format!("the purpose the data was received for (`{rf}`) is not in the convenant"),
                ));
        }
        for (oin, who_nl, who_en) in [
            (&req.actor.oin, "afzender", "sender"),
            (&req.recipient.oin, "ontvanger", "recipient"),
        ] {
            if !is_valid_oin(oin) {
                reasons.push(|| {
                    reason(
                        ReasonCode::BadOin,
                        "floor:identity",
                        format!("het OIN van de {who_nl} is geen 20-cijferig OIN"),
                        format!("the {who_en} OIN is not a 20-digit OIN"),
                    )
                });
            }
        }
        // The floor on the presented legal basis comes first, so that e.g. the meldrecht towards a
        // wijkteam is refused with its own reason, not merely "no flow".
        if let Some(legal) = &req.basis.legal {
            self.floor_legal_basis(
                legal,
                &req.actor.sector,
                &req.recipient.sector,
                &mut reasons,
            );
        }
        let (Some(from), Some(to), Some(purpose)) = (from, to, purpose) else {
            return Err(reasons);
        };
        if is_valid_oin(&req.actor.oin) && !self.party_ok(from, &req.actor.oin) {
            reasons.push(|| {
                reason(
                    ReasonCode::PartyNotInConvenant,
                    "convenant:parties",
                    format!(
                        "organisatie {} is geen partij bij het convenant",
                        req.actor.oin
                    ),
                    format!(
                        "organisation {} is not a party to the convenant",
                        req.actor.oin
                    ),
                )
            });
        }
        if is_valid_oin(&req.recipient.oin) && !self.party_ok(to, &req.recipient.oin) {
            reasons.push(|| {
                reason(
                    ReasonCode::PartyNotInConvenant,
                    "convenant:parties",
                    format!(
                        "ontvanger {} is geen partij bij het convenant",
                        req.recipient.oin
                    ),
                    format!(
                        "recipient {} is not a party to the convenant",
                        req.recipient.oin
                    ),
                )
            });
        }
        let roles = self
            .sector_roles
            .get(usize::from(from))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if !roles.contains(&req.actor.role) {
            reasons.push(|| {
                reason(
                    ReasonCode::UnknownRole,
                    "convenant:sectors",
                    format!(
                        "rol `{}` is geen rol van sector {}",
                        req.actor.role, req.actor.sector
                    ),
                    format!(
                        "role `{}` is not a role of sector {}",
                        req.actor.role, req.actor.sector
                    ),
                )
            });
        }
        if !reasons.is_empty() {
            return Err(reasons);
        }
        let Some(candidates) = self.index.get(&(from, to, purpose)) else {
            reasons.push(|| self.no_flow(from, to, req));
            return Err(reasons);
        };
        let ctx = Ctx {
            explain,
            req,
            to,
            purpose,
            cats,
        };
        for &fid in candidates {
            let Some(flow) = self.flows.get(fid as usize) else {
                continue;
            };
            match self.eval_flow(flow, &ctx) {
                Ok(decision) => return Ok(decision),
                Err(mut r) => reasons.append(&mut r),
            }
        }
        Err(reasons)
    }

    fn sector_id(
        &self,
        sector: &str,
        who_nl: &str,
        who_en: &str,
        reasons: &mut Why,
    ) -> Option<u16> {
        match self.sectors.get(sector) {
            Some(&s) => Some(s),
            None => {
                reasons.push(|| {
                    reason(
                        ReasonCode::UnknownSector,
                        "convenant:sectors",
                        format!(
                            "sector `{sector}` van de {who_nl} neemt niet deel aan het convenant"
                        ),
                        format!("the {who_en} sector `{sector}` is not part of the convenant"),
                    )
                });
                None
            }
        }
    }

    fn no_flow(&self, from: u16, to: u16, req: &DecisionRequest) -> Reason {
        let mut other: Vec<&str> = self
            .index
            .keys()
            .filter(|(a, b, _)| *a == from && *b == to)
            .filter_map(|(_, _, p)| self.purpose_names.get(usize::from(*p)).map(String::as_str))
            .collect();
        other.sort_unstable();
        other.dedup();
        let (f, t) = (&req.actor.sector, &req.recipient.sector);
        if other.is_empty() {
            reason(
                ReasonCode::NoFlow,
                "convenant:flows",
                format!("het convenant staat geen verstrekking van {f} aan {t} toe"),
                format!("the convenant allows no disclosure from {f} to {t}"),
            )
        } else {
            let list = other.join(", ");
            reason(
                ReasonCode::PurposeNotAllowed,
                "floor:purpose-limitation",
                format!(
                    "doel `{}` is niet toegestaan van {f} aan {t}; toegestaan: {list}",
                    req.purpose
                ),
                format!(
                    "purpose `{}` is not allowed from {f} to {t}; allowed: {list}",
                    req.purpose
                ),
            )
        }
    }

    /// Floor checks on a presented legal basis that do not depend on a flow.
    fn floor_legal_basis(&self, legal: &LegalBasisRecord, from: &str, to: &str, reasons: &mut Why) {
        let Some(&bid) = self.bases.get(legal.basis.as_str()) else {
            reasons.push(|| {
                reason(
                    ReasonCode::UnknownBasis,
                    "convenant:bases",
                    format!("grondslag `{}` staat niet in het convenant", legal.basis),
                    format!("basis `{}` is not in the convenant", legal.basis),
                )
            });
            return;
        };
        let Some(b) = self.basis.get(usize::from(bid)) else {
            return;
        };
        if let Some(required) = b.kind.required_to_sector()
            && to != required
        {
            let (code, rule) = if b.kind == BasisKind::Meldcode {
                (ReasonCode::MeldrechtOnlyToVeiligThuis, "floor:meldrecht")
            } else {
                (ReasonCode::BasisWrongRecipient, "floor:basis-recipient")
            };
            reasons.push(|| reason(
                    code,
                    rule,
                    format!(
                        "op grond van `{}` mag alleen aan {required} worden gemeld, niet aan {to}; daarvoor is toestemming (met art. 9-grond voor gezondheidsgegevens) nodig",
                        b.name
                    ),
                    format!(
                        "`{}` allows reporting only to {required}, not to {to}; that needs consent (with an art. 9 ground for health data)",
                        b.name
                    ),
                ));
        }
        let wrong_sender = b.kind.required_from_sector().is_some_and(|r| r != from)
            || b.kind.forbidden_from_sector() == Some(from);
        if wrong_sender {
            reasons.push(|| {
                reason(
                    ReasonCode::BasisWrongSender,
                    "floor:basis-sender",
                    format!(
                        "sector {from} kan zich niet beroepen op grondslag `{}` ({})",
                        b.name, b.kind
                    ),
                    format!("sector {from} cannot use basis `{}` ({})", b.name, b.kind),
                )
            });
        }
        if b.kind == BasisKind::Consent {
            reasons.push(|| reason(
                ReasonCode::BasisNotAllowedForFlow,
                "floor:consent",
                format!("toestemming (`{}`) wordt aangetoond met toestemmingsregistraties, niet als wettelijke grondslag", b.name),
                format!("consent (`{}`) is shown with consent records, not as a legal basis record", b.name),
            ));
        }
    }

    fn eval_flow<'p>(&'p self, flow: &'p CFlow, ctx: &Ctx<'_>) -> Result<Decision<'p>, Why> {
        let req = ctx.req;
        let rule: &str = &flow.rule;
        let mut reasons = Why::new(ctx.explain);
        if !flow.from_roles.is_empty() && !flow.from_roles.contains(&req.actor.role) {
            reasons.push(|| {
                reason(
                    ReasonCode::RoleNotAllowed,
                    rule,
                    format!(
                        "rol `{}` mag deze verstrekking niet doen; toegestaan: {}",
                        req.actor.role,
                        flow.from_roles.join(", ")
                    ),
                    format!(
                        "role `{}` may not make this disclosure; allowed: {}",
                        req.actor.role,
                        flow.from_roles.join(", ")
                    ),
                )
            });
        }
        let extra = ctx.cats & !flow.cats;
        if extra != 0 {
            let list = self.cat_list(extra);
            reasons.push(|| {
                reason(
                    ReasonCode::CategoryNotAllowed,
                    rule,
                    format!(
                        "categorie(ën) {list} mogen niet worden verstrekt voor doel {}",
                        req.purpose
                    ),
                    format!(
                        "category(ies) {list} may not be disclosed for purpose {}",
                        req.purpose
                    ),
                )
            });
        }
        if flow.requires_involvement && !req.recipient_involved {
            reasons.push(|| {
                reason(
                    ReasonCode::RecipientNotInvolved,
                    rule,
                    "de ontvanger is niet als betrokken bij deze persoon geregistreerd".into(),
                    "the recipient is not registered as involved with this person".into(),
                )
            });
        }
        if let Some(rf) = &req.received_for
            && let Some(&rp) = self.purposes.get(rf.as_str())
            && rp != ctx.purpose
            && !flow.onward_from.contains(&rp)
        {
            reasons.push(|| reason(
                        ReasonCode::PurposeChangeNotAllowed,
                        "floor:purpose-limitation",
                        format!("gegevens ontvangen voor doel {rf} mogen niet worden doorgegeven voor doel {}", req.purpose),
                        format!("data received for purpose {rf} may not be passed on for purpose {}", req.purpose),
                    ));
        }
        let has_art9 = ctx.cats & self.art9_mask != 0;
        let has_art10 = ctx.cats & self.art10_mask != 0;
        let flow_consent = flow
            .bases
            .iter()
            .filter_map(|&b| self.basis.get(usize::from(b)))
            .find(|cb| cb.kind == BasisKind::Consent);
        // The basis whose rules judge consent records: the flow's own consent basis, or, for a flow
        // that demands consent on top of a legal basis, the convenant's consent basis.
        let consent_basis = flow_consent.or(if flow.also_requires_consent {
            self.basis.iter().find(|cb| cb.kind == BasisKind::Consent)
        } else {
            None
        });

        // Legal basis route.
        let mut legal_ok: Option<(usize, &CBasis)> = None;
        let mut basis_reasons = Why::new(ctx.explain);
        if let Some(legal) = &req.basis.legal {
            match self.bases.get(legal.basis.as_str()) {
                Some(&bid) if flow.bases.contains(&bid) => {
                    let pos = flow.bases.iter().position(|&b| b == bid).unwrap_or(0);
                    if let Some(cb) = self.basis.get(usize::from(bid)) {
                        let before = basis_reasons.len();
                        self.check_legal(
                            cb,
                            legal,
                            req,
                            (has_art9, has_art10),
                            ctx,
                            &mut basis_reasons,
                        );
                        if basis_reasons.len() == before {
                            legal_ok = Some((pos, cb));
                        }
                    }
                }
                Some(_) => basis_reasons.push(|| reason(
                    ReasonCode::BasisNotAllowedForFlow,
                    rule,
                    format!(
                        "grondslag `{}` is voor deze verstrekking niet toegestaan; toegestaan: {}",
                        legal.basis,
                        self.basis_list(flow)
                    ),
                    format!(
                        "basis `{}` is not allowed for this disclosure; allowed: {}",
                        legal.basis,
                        self.basis_list(flow)
                    ),
                )),
                None => {} // reported by the floor pre-check
            }
        }
        // Consent route.
        let mut consent_ok: Option<ConsentSet> = None;
        if !req.basis.consents.is_empty() {
            match consent_basis {
                Some(cb) => {
                    let before = basis_reasons.len();
                    let ids = self.check_consents(cb, req, ctx, &mut basis_reasons);
                    if basis_reasons.len() == before {
                        consent_ok = Some(ids);
                    }
                }
                None if req.basis.legal.is_none() => basis_reasons.push(|| reason(
                    ReasonCode::BasisNotAllowedForFlow,
                    rule,
                    format!("toestemming is voor deze verstrekking geen toegestane grondslag; toegestaan: {}", self.basis_list(flow)),
                    format!("consent is not an allowed basis for this disclosure; allowed: {}", self.basis_list(flow)),
                )),
                None => {}
            }
        }
        if req.basis.legal.is_none() && req.basis.consents.is_empty() {
            basis_reasons.push(|| {
                reason(
                    ReasonCode::NoBasis,
                    "floor:no-basis",
                    format!(
                        "er is geen grondslag aangeleverd; toegestaan: {}",
                        self.basis_list(flow)
                    ),
                    format!("no basis was presented; allowed: {}", self.basis_list(flow)),
                )
            });
        }
        if flow.also_requires_consent
            && legal_ok.is_some()
            && consent_ok.is_none()
            && req.basis.consents.is_empty()
        {
            basis_reasons.push(|| reason(
                ReasonCode::ConsentRequiredByFlow,
                rule,
                "het convenant vraagt voor deze verstrekking ook toestemming van de betrokkene(n); die ontbreekt".into(),
                "the convenant also requires the consent of the person(s) concerned for this disclosure; it is missing".into(),
            ));
        }
        if flow_consent.is_none()
            && consent_basis.is_some()
            && req.basis.legal.is_none()
            && !req.basis.consents.is_empty()
        {
            basis_reasons.push(|| {
                reason(
                    ReasonCode::BasisNotAllowedForFlow,
                    rule,
                    format!(
                        "toestemming alleen is hier niet genoeg; nodig is ook grondslag: {}",
                        self.basis_list(flow)
                    ),
                    format!(
                        "consent alone is not enough here; a basis is also needed: {}",
                        self.basis_list(flow)
                    ),
                )
            });
        }
        // Legal route: the legal basis holds (and consent too, where the flow demands it).
        // Consent route: consent is itself one of the flow's bases and holds.
        let via_legal = legal_ok.is_some() && (!flow.also_requires_consent || consent_ok.is_some());
        // Consent is never the ground for criminal-law data (floor: art. 10); a valid consent
        // still counts where the flow demands it on top of a legal basis.
        let via_consent = flow_consent.is_some() && consent_ok.is_some() && !has_art10;
        if has_art10 && flow_consent.is_some() && consent_ok.is_some() && !via_legal {
            let list = self.cat_list(ctx.cats & self.art10_mask);
            basis_reasons.push(|| reason(
                ReasonCode::Art10GroundMissing,
                "floor:art10",
                format!("voor strafrechtelijke gegevens ({list}) is toestemming geen grondslag; nodig is een wettelijke grondslag die een art. 10-grond is, bijv. de Wet politiegegevens of de wettelijke taak van Veilig Thuis"),
                format!("for criminal-law data ({list}) consent is not a ground; a statutory basis that is an art. 10 ground is needed, e.g. the Wet politiegegevens or Veilig Thuis's statutory task"),
            ));
        }
        if !reasons.is_empty() || !(via_legal || via_consent) {
            reasons.append(&mut basis_reasons);
            return Err(reasons);
        }
        let legal_ok = if via_legal { legal_ok } else { None };

        // Allowed: rules and obligations.
        let route = match legal_ok {
            Some((pos, _)) => pos * 2 + usize::from(consent_ok.is_some()),
            None => flow.bases.len() * 2,
        };
        Ok(self.allowed(
            flow,
            req,
            ctx.purpose,
            rules_index(route, has_art9, has_art10),
            consent_ok.unwrap_or_default(),
        ))
    }

    /// The allowed decision for `flow`; `rules_at` indexes `CFlow::allow_rules`.
    #[inline(always)]
    fn allowed<'p>(
        &'p self,
        flow: &'p CFlow,
        req: &DecisionRequest,
        purpose: u16,
        rules_at: usize,
        consents_relied_on: ConsentSet,
    ) -> Decision<'p> {
        // `rules_at` is in range by construction; the flow's own rule is the defensive answer.
        let rules = flow
            .allow_rules
            .get(rules_at)
            .unwrap_or(&flow.flow_rule_only);
        let exempted = flow.informs_subject
            && req
                .inform_exemption
                .as_deref()
                .is_some_and(|r| !r.trim().is_empty());
        let secs = self
            .retention
            .get(usize::from(purpose))
            .copied()
            .unwrap_or(0);
        let retain_until = Some(
            req.now
                .saturating_add(i64::try_from(secs).unwrap_or(i64::MAX)),
        );
        let plain = match &flow.plain_obligations {
            Some(plain) if !exempted => plain.as_slice(),
            _ => {
                return self.allowed_with_obligations(
                    flow,
                    req,
                    rules,
                    retain_until,
                    consents_relied_on,
                );
            }
        };
        // Every field is a plain value here, so the decision is written once, straight into the
        // caller's slot: a `Cow` chosen aside and moved in was copied through the stack and read
        // back wider than it was written, stalling on store forwarding (a fifth of the time).
        Decision {
            outcome: Outcome::Allow,
            rules: Cow::Borrowed(rules.as_slice()),
            obligations: Cow::Borrowed(plain),
            retain_until,
            consents_relied_on,
            reasons: Vec::new(),
            policy_version: Cow::Borrowed(&self.version),
        }
    }

    /// `allowed` for a flow whose obligations depend on the request (`notify_sender`, or
    /// `inform_subject` with a recorded exemption).
    #[inline(never)]
    fn allowed_with_obligations<'p>(
        &'p self,
        flow: &'p CFlow,
        req: &DecisionRequest,
        rules: &'p [Arc<str>],
        retain_until: Option<i64>,
        consents_relied_on: ConsentSet,
    ) -> Decision<'p> {
        Decision {
            outcome: Outcome::Allow,
            rules: Cow::Borrowed(rules),
            obligations: Cow::Owned(self.obligations(flow, req)),
            retain_until,
            consents_relied_on,
            reasons: Vec::new(),
            policy_version: Cow::Borrowed(&self.version),
        }
    }

    /// The obligations of an allowed decision that depend on the request.
    fn obligations(&self, flow: &CFlow, req: &DecisionRequest) -> Vec<Obligation> {
        let mut obligations = Vec::with_capacity(flow.obligations.len());
        for o in &flow.obligations {
            obligations.push(match o {
                ObligationSpec::InformSubject => match &req.inform_exemption {
                    Some(r) if !r.trim().is_empty() => {
                        Obligation::InformSubjectExempted { reason: r.clone() }
                    }
                    _ => Obligation::InformSubject,
                },
                ObligationSpec::NotifySender => Obligation::NotifySender {
                    oin: req.actor.oin.clone(),
                },
                ObligationSpec::NotifySector(s) => Obligation::NotifySector { sector: s.clone() },
                ObligationSpec::ConfirmInWriting => Obligation::ConfirmInWriting,
            });
        }
        obligations
    }

    fn basis_list(&self, flow: &CFlow) -> String {
        flow.bases
            .iter()
            .filter_map(|&b| self.basis.get(usize::from(b)).map(|cb| cb.name.to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn check_legal(
        &self,
        cb: &CBasis,
        legal: &LegalBasisRecord,
        req: &DecisionRequest,
        (has_art9, has_art10): (bool, bool),
        ctx: &Ctx<'_>,
        out: &mut Why,
    ) {
        // Floor again (defence in depth; the pre-check already reported these).
        let to_ok = cb.kind.required_to_sector().is_none_or(|r| {
            self.sector_names
                .get(usize::from(ctx.to))
                .is_some_and(|n| n == r)
        });
        let from_ok = cb
            .kind
            .required_from_sector()
            .is_none_or(|r| req.actor.sector == r)
            && cb.kind.forbidden_from_sector() != Some(req.actor.sector.as_str());
        if !to_ok || !from_ok || cb.kind == BasisKind::Consent {
            out.push(|| {
                reason(
                    if !to_ok && cb.kind == BasisKind::Meldcode {
                        ReasonCode::MeldrechtOnlyToVeiligThuis
                    } else {
                        ReasonCode::BasisWrongSender
                    },
                    "floor:basis",
                    format!(
                        "grondslag `{}` past niet bij afzender of ontvanger",
                        cb.name
                    ),
                    format!("basis `{}` does not fit sender or recipient", cb.name),
                )
            });
            return;
        }
        if has_art9 && !(cb.art9 && cb.kind.may_cover_art9()) {
            let list = self.cat_list(ctx.cats & self.art9_mask);
            out.push(|| reason(
                ReasonCode::Art9GroundMissing,
                "floor:art9",
                format!("voor bijzondere persoonsgegevens ({list}) is grondslag `{}` geen art. 9-grond; nodig is uitdrukkelijke toestemming of een melding aan Veilig Thuis", cb.name),
                format!("for special-category data ({list}) basis `{}` is not an art. 9 ground; explicit consent or a report to Veilig Thuis is needed", cb.name),
            ));
        }
        if has_art10 && !(cb.art10 && cb.kind.may_cover_art10()) {
            let list = self.cat_list(ctx.cats & self.art10_mask);
            out.push(|| reason(
                ReasonCode::Art10GroundMissing,
                "floor:art10",
                format!("voor strafrechtelijke gegevens ({list}) is grondslag `{}` geen art. 10-grond", cb.name),
                format!("for criminal-law data ({list}) basis `{}` is not an art. 10 ground", cb.name),
            ));
        }
        let ev = &legal.evidence;
        for item in &cb.evidence {
            let (present, nl, en): (bool, &str, &str) = match item {
                EvidenceItem::MeldcodeSteps => {
                    let missing: Vec<String> = (1u8..=4)
                        .filter(|s| !ev.meldcode_steps_completed.contains(s))
                        .map(|s| s.to_string())
                        .collect();
                    if !missing.is_empty() {
                        let m = missing.join(", ");
                        out.push(|| {
                            reason(
                                ReasonCode::MeldcodeStepsIncomplete,
                                "floor:meldrecht",
                                format!("stap(pen) {m} van de meldcode zijn niet doorlopen"),
                                format!("meldcode step(s) {m} have not been completed"),
                            )
                        });
                    }
                    continue;
                }
                EvidenceItem::Afwegingskader => match ev.afwegingskader {
                    None => (
                        false,
                        "de uitkomst van het afwegingskader",
                        "the afwegingskader outcome",
                    ),
                    Some(Afwegingskader::GeenVermoeden) => {
                        out.push(|| reason(
                            ReasonCode::MeldcodeNoSuspicion,
                            "floor:meldrecht",
                            "volgens het afwegingskader is er geen vermoeden van onveiligheid; er is geen grond om te melden".into(),
                            "the afwegingskader found no suspicion of unsafety; there is no ground to report".into(),
                        ));
                        continue;
                    }
                    Some(_) => (true, "", ""),
                },
                EvidenceItem::ClientInformed => match &ev.client_informed {
                    None => (
                        false,
                        "of de cliënt is geïnformeerd (en zo niet, waarom niet)",
                        "whether the client was informed (and if not, why not)",
                    ),
                    Some(ClientInformed::No { reason: r }) if r.trim().is_empty() => {
                        out.push(|| {
                            reason(
                                ReasonCode::ClientInformedReasonMissing,
                                "floor:meldrecht",
                                "de cliënt is niet geïnformeerd en de reden daarvoor ontbreekt"
                                    .into(),
                                "the client was not informed and the reason is missing".into(),
                            )
                        });
                        continue;
                    }
                    Some(_) => (true, "", ""),
                },
                EvidenceItem::RegistrationNumber => (
                    ev.registration_number
                        .as_deref()
                        .is_some_and(|s| !s.trim().is_empty()),
                    "het registratienummer van de politie",
                    "the police registration number",
                ),
                EvidenceItem::CaseReference => (
                    ev.case_reference
                        .as_deref()
                        .is_some_and(|s| !s.trim().is_empty()),
                    "het dossiernummer van Veilig Thuis",
                    "the Veilig Thuis case reference",
                ),
                EvidenceItem::PaymentReminderSent => (
                    ev.payment_reminder_sent == Some(true),
                    "een verstuurde betalingsherinnering aan de huurder",
                    "a payment reminder sent to the tenant",
                ),
                EvidenceItem::MaatregelReference => (
                    ev.maatregel_reference
                        .as_deref()
                        .is_some_and(|s| !s.trim().is_empty()),
                    "de referentie van de maatregel",
                    "the maatregel reference",
                ),
                EvidenceItem::RecipientInvolved => (
                    req.recipient_involved,
                    "registratie van de ontvanger als betrokkene",
                    "registration of the recipient as involved",
                ),
                EvidenceItem::VitalInterestReason => (
                    ev.vital_interest_reason
                        .as_deref()
                        .is_some_and(|s| !s.trim().is_empty()),
                    "de reden van het vitaal belang",
                    "the reason for the vital interest",
                ),
                EvidenceItem::SubjectUnableToConsent => (
                    ev.subject_unable_to_consent == Some(true),
                    "vaststelling dat betrokkene geen toestemming kan geven",
                    "a finding that the subject cannot consent",
                ),
                // Consent items never belong to a legal basis (the parser refuses them).
                EvidenceItem::Giver
                | EvidenceItem::Recipients
                | EvidenceItem::Purposes
                | EvidenceItem::Categories
                | EvidenceItem::Period
                | EvidenceItem::Explicit => (false, "toestemmingsgegevens", "consent details"),
            };
            if !present {
                out.push(|| {
                    reason(
                        ReasonCode::EvidenceMissing,
                        format!("basis:{}", cb.name),
                        format!("voor grondslag `{}` ontbreekt: {nl}", cb.name),
                        format!("basis `{}` is missing: {en}", cb.name),
                    )
                });
            }
        }
    }

    /// Consent per category: which records are usable, and whether the right people gave them.
    fn check_consents(
        &self,
        cb: &CBasis,
        req: &DecisionRequest,
        ctx: &Ctx<'_>,
        out: &mut Why,
    ) -> ConsentSet {
        let subject = match judged_subject(req) {
            Ok(s) => s,
            Err(recorded) => {
                out.push(|| reason(
                    ReasonCode::FactsContradictConsent,
                    "floor:consent-minors",
                    format!(
                        "de leeftijd of de gezaghebbenden die bij verzending zijn opgegeven wijken af van wat bij de toestemming is vastgelegd ({}); laat ze weg of leg een nieuwe toestemming vast",
                        facts_text(recorded)
                    ),
                    format!(
                        "the age or holders of gezag stated at sending contradict those recorded with the consent ({}); leave them out or record a new consent",
                        facts_text(recorded)
                    ),
                ));
                return ConsentSet::EMPTY;
            }
        };
        let band = match subject.age.band() {
            Some(b) => b,
            None => {
                out.push(|| reason(
                    ReasonCode::SubjectAgeUnknown,
                    "floor:consent-minors",
                    "de leeftijd van betrokkene is onbekend, dus niet is vast te stellen wie toestemming moet geven".into(),
                    "the subject's age is unknown, so it cannot be established who must consent".into(),
                ));
                return ConsentSet::EMPTY;
            }
        };
        let now = req.now;
        // Bit sets instead of vectors keep the allowed path free of allocations. Only the first 64
        // consent records and gezag holders count; more is not a real case, and ignoring extra
        // records can only deny, never allow.
        let mut used: u64 = 0;
        // Record-level problems, reported only if a category ends up not covered.
        let mut record_issues = Why::new(ctx.explain);
        let mut usable: u64 = 0;
        for (ri, rec) in req.basis.consents.iter().enumerate().take(64) {
            let id = &rec.id;
            if rec.withdrawn {
                record_issues.push(|| {
                    reason(
                        ReasonCode::ConsentWithdrawn,
                        "floor:consent",
                        format!("toestemming {id} is ingetrokken"),
                        format!("consent {id} has been withdrawn"),
                    )
                });
                continue;
            }
            if now < rec.valid_from {
                record_issues.push(|| {
                    reason(
                        ReasonCode::ConsentNotYetValid,
                        "floor:consent",
                        format!("toestemming {id} is nog niet geldig"),
                        format!("consent {id} is not valid yet"),
                    )
                });
                continue;
            }
            if now >= rec.valid_until {
                record_issues.push(|| {
                    reason(
                        ReasonCode::ConsentExpired,
                        "floor:consent",
                        format!("toestemming {id} is verlopen"),
                        format!("consent {id} has expired"),
                    )
                });
                continue;
            }
            if !(rec.disclosers.is_empty() || rec.disclosers.contains(&req.actor.oin)) {
                record_issues.push(|| {
                    reason(
                        ReasonCode::ConsentNotForDiscloser,
                        "floor:consent",
                        format!(
                            "toestemming {id} is niet gegeven voor verstrekking door {}",
                            req.actor.oin
                        ),
                        format!(
                            "consent {id} does not allow {} to disclose under it",
                            req.actor.oin
                        ),
                    )
                });
                continue;
            }
            let covers_recipient = rec.recipients.iter().any(|r| match r {
                ConsentRecipient::Oin(o) => *o == req.recipient.oin,
                ConsentRecipient::Sector(s) => *s == req.recipient.sector,
            });
            if !covers_recipient {
                record_issues.push(|| {
                    reason(
                        ReasonCode::ConsentWrongRecipient,
                        "floor:consent",
                        format!(
                            "toestemming {id} geldt niet voor ontvanger {} ({})",
                            req.recipient.oin, req.recipient.sector
                        ),
                        format!(
                            "consent {id} does not cover recipient {} ({})",
                            req.recipient.oin, req.recipient.sector
                        ),
                    )
                });
                continue;
            }
            if !rec.purposes.contains(&req.purpose) {
                record_issues.push(|| {
                    reason(
                        ReasonCode::ConsentWrongPurpose,
                        "floor:consent",
                        format!("toestemming {id} geldt niet voor doel {}", req.purpose),
                        format!("consent {id} does not cover purpose {}", req.purpose),
                    )
                });
                continue;
            }
            usable |= 1u64 << ri;
        }
        let all_gezag = self.convenant.consent_requires_all_gezag_holders;
        let holders = &subject.gezag_holders;
        for (ci, cname) in self.category_names.iter().enumerate() {
            if ctx.cats & (1u128 << ci) == 0 {
                continue;
            }
            let art9 = self.art9_mask & (1u128 << ci) != 0;
            let mut subject_gave = false;
            let mut holders_gave: u64 = 0;
            let mut any_cover = false;
            for (ri, rec) in req.basis.consents.iter().enumerate().take(64) {
                if usable & (1u64 << ri) == 0 || !rec.categories.iter().any(|c| c == cname) {
                    continue;
                }
                if art9 && !(rec.explicit && cb.art9) {
                    record_issues.push(|| reason(
                        ReasonCode::ConsentNotExplicit,
                        "floor:art9",
                        format!("toestemming {} is niet uitdrukkelijk gegeven voor bijzondere categorie {cname}", rec.id),
                        format!("consent {} was not given explicitly for special category {cname}", rec.id),
                    ));
                    continue;
                }
                any_cover = true;
                for g in &rec.givers {
                    match g.capacity {
                        GiverCapacity::Subject => subject_gave = true,
                        GiverCapacity::GezagHolder => {
                            match holders.iter().take(64).position(|h| *h == g.person) {
                                Some(hi) => holders_gave |= 1u64 << hi,
                                None => {
                                    record_issues.push(|| {
                                        reason(
                                            ReasonCode::ConsentGiverNotEntitled,
                                            "floor:consent-minors",
                                            format!(
                                                "{} heeft geen gezag over betrokkene",
                                                g.person
                                            ),
                                            format!(
                                                "{} does not hold gezag over the subject",
                                                g.person
                                            ),
                                        )
                                    });
                                }
                            }
                        }
                    }
                }
                used |= 1u64 << ri;
            }
            let before = out.len();
            if !any_cover {
                out.append(&mut record_issues.clone());
                let (nl_art9, en_art9) = if art9 {
                    (" (uitdrukkelijk, art. 9 AVG)", " (explicit, art. 9 GDPR)")
                } else {
                    ("", "")
                };
                out.push(|| {
                    reason(
                        ReasonCode::ConsentCategoryNotCovered,
                        "floor:consent",
                        format!("geldige toestemming{nl_art9} ontbreekt voor categorie {cname}"),
                        format!("valid consent{en_art9} is missing for category {cname}"),
                    )
                });
                continue;
            }
            let needs_subject = match band {
                AgeBand::From16To17 | AgeBand::Adult => true,
                AgeBand::From12To15 => art9,
                AgeBand::Under12 => false,
            };
            let needs_parent = matches!(band, AgeBand::Under12 | AgeBand::From12To15);
            if needs_subject && !subject_gave {
                let who = match band {
                    AgeBand::Adult => ("betrokkene zelf", "the subject"),
                    AgeBand::From16To17 => (
                        "de jongere zelf (16 jaar of ouder)",
                        "the young person (16 or older)",
                    ),
                    _ => (
                        "het kind zelf (12–15 jaar, gezondheidsgegevens)",
                        "the child (aged 12–15, health data)",
                    ),
                };
                out.push(|| {
                    reason(
                        ReasonCode::ConsentMissingSubject,
                        "floor:consent-minors",
                        format!("toestemming van {} ontbreekt voor categorie {cname}", who.0),
                        format!("consent of {} is missing for category {cname}", who.1),
                    )
                });
            }
            if needs_parent {
                if holders.is_empty() {
                    out.push(|| {
                        reason(
                            ReasonCode::GezagHoldersUnknown,
                            "floor:consent-minors",
                            "niet is vastgelegd wie het gezag heeft over betrokkene".into(),
                            "who holds gezag over the subject is not recorded".into(),
                        )
                    });
                } else {
                    let gave = |i: usize| i < 64 && holders_gave & (1u64 << i) != 0;
                    let fails = if all_gezag {
                        !(0..holders.len()).all(gave)
                    } else {
                        holders_gave == 0
                    };
                    if fails {
                        out.push(|| {
                            let names = holders
                                .iter()
                                .enumerate()
                                .filter(|(i, _)| !gave(*i))
                                .map(|(_, h)| h.as_str())
                                .collect::<Vec<_>>()
                                .join(", ");
                            reason(
                            ReasonCode::ConsentMissingGezagHolder,
                            "floor:consent-minors",
                            format!("toestemming van een ouder met gezag ({names}) ontbreekt voor categorie {cname}"),
                            format!("consent of a parent with gezag ({names}) is missing for category {cname}"),
                        )});
                    }
                }
            }
            if out.len() > before {
                // Explain why other records did not help.
                out.list.extend(
                    record_issues
                        .list
                        .iter()
                        .filter(|r| r.code == ReasonCode::ConsentGiverNotEntitled)
                        .cloned(),
                );
            }
        }
        ConsentSet::from_bits(used)
    }
}

/// `!s.trim().is_empty()`, without the Unicode trim when the first byte settles it.
#[inline]
fn not_blank(s: &str) -> bool {
    match s.as_bytes().first() {
        None => false,
        Some(&b) if b.is_ascii() => !(matches!(b, b'\t'..=b'\r' | b' ')) || !s.trim().is_empty(),
        Some(_) => !s.trim().is_empty(),
    }
}

/// The rule lists an allowed decision can carry for one flow (see `CFlow::allow_rules`).
fn allow_rule_table(
    id: &str,
    flow_bases: &[u16],
    basis: &[CBasis],
    also_requires_consent: bool,
) -> Vec<Vec<Arc<str>>> {
    let flow_rule: Arc<str> = Arc::from(format!("flow:{id}").as_str());
    let get = |b: u16| basis.get(usize::from(b));
    let consent_basis = flow_bases
        .iter()
        .filter_map(|&b| get(b))
        .find(|cb| cb.kind == BasisKind::Consent)
        .or_else(|| {
            if also_requires_consent {
                basis.iter().find(|cb| cb.kind == BasisKind::Consent)
            } else {
                None
            }
        });
    let n = flow_bases.len();
    let mut table = Vec::with_capacity((2 * n + 1) * 4);
    for route in 0..=2 * n {
        for (art9, art10) in [(false, false), (false, true), (true, false), (true, true)] {
            debug_assert_eq!(rules_index(route, art9, art10), table.len());
            let mut rules: Vec<Arc<str>> = vec![flow_rule.clone()];
            let legal = if route < 2 * n {
                flow_bases.get(route / 2).and_then(|&b| get(b))
            } else {
                None
            };
            let with_consent = route == 2 * n || route % 2 == 1;
            if let Some(cb) = legal {
                rules.push(Arc::from(format!("basis:{}", cb.name).as_str()));
            }
            if with_consent {
                if let Some(cb) = consent_basis {
                    rules.push(Arc::from(format!("basis:{}", cb.name).as_str()));
                }
                rules.push(Arc::from("floor:consent"));
            }
            if art9 {
                rules.push(Arc::from("floor:art9"));
            }
            if art10 {
                rules.push(Arc::from("floor:art10"));
            }
            if legal.is_some_and(|cb| cb.kind == BasisKind::Meldcode) {
                rules.push(Arc::from("floor:meldrecht"));
            }
            table.push(rules);
        }
    }
    table
}

/// Where an allowed decision's rule list sits in `CFlow::allow_rules`: per route, four lists for
/// the request carrying art. 9 data or not and art. 10 data or not.
#[inline(always)]
fn rules_index(route: usize, art9: bool, art10: bool) -> usize {
    (route * 2 + usize::from(art9)) * 2 + usize::from(art10)
}
