//! Consents: record, withdraw, list. Every change and every listing is appended to the
//! disclosure log in the same transaction.
use super::error::{FlowError, FlowResult, Violations, echo, reject};
use super::policy::check_list;
use super::{Ctx, new_id, now};
use crate::auth::Caller;
use crate::domain::consent::{Consent, ConsentTo, Facts, Giver};
use crate::ids::Bsn;
use crate::ids::{Category, Purpose, Role};
use crate::ledger::{EntryOutcome, Event};
use crate::store::StoreError;

/// Longest consent validity: five years.
pub const MAX_VALIDITY_SECS: i64 = 5 * 365 * 24 * 3600;

/// A recipient a consent names, with the request field it came from (for error details).
#[derive(Debug, Clone)]
pub struct NamedRecipient {
    /// The organisation or sector.
    pub to: ConsentTo,
    /// `recipients.oin`, `recipients.sector` or `recipients.sector_name`.
    pub field: &'static str,
}

/// `RecordConsent`. Like `CheckBasis` it names every bad field at once: the edge hands its own
/// findings over in `invalid`.
#[derive(Debug, Clone)]
pub struct RecordConsent {
    /// The person the consent is about (`None`: the edge found the BSN invalid).
    pub subject: Option<Bsn>,
    /// Facts about the subject at recording.
    pub facts: Facts,
    /// Who consented.
    pub givers: Vec<Giver>,
    /// To whom.
    pub recipients: Vec<NamedRecipient>,
    /// Who may disclose under it, as named (empty: the recording organisation).
    pub disclosers: Vec<NamedRecipient>,
    /// For which purposes (a malformed one is left out by the edge, which said so).
    pub purposes: Vec<Purpose>,
    /// Which categories (likewise).
    pub categories: Vec<Category>,
    /// From (unix seconds; default now).
    pub valid_from: Option<i64>,
    /// Until (unix seconds; required).
    pub valid_until: Option<i64>,
    /// Explicit consent (art. 9 AVG).
    pub explicit: bool,
    /// Reference to the evidence (e.g. SHA-256 of the signed form).
    pub evidence_reference: Option<String>,
    /// The role acted in.
    pub acting_role: Option<Role>,
    /// What the edge found wrong.
    pub invalid: Violations,
}

/// Whether `caller`'s organisation recorded the consent, may disclose under it or is one of its
/// recipients (docs/ACCESS.md). A sector recipient (kept only by consents recorded before sectors
/// were resolved to organisations) still concerns every organisation of that sector.
fn concerns(c: &Consent, caller: &Caller) -> bool {
    let me = caller.oin().as_str();
    c.recorded_by_oin == me
        || c.disclosers.iter().any(|d| d == me)
        || c.recipients.iter().any(|r| match r {
            ConsentTo::Oin(o) => o == me,
            ConsentTo::Sector(s) => s == caller.sector().as_str(),
        })
}

/// The recipients as stored: a sector resolves to the active organisations of that sector in
/// the recording organisation's region (so the consent names organisations, not everyone of a
/// sector anywhere in the hub).
fn resolve_recipients(
    ctx: &Ctx,
    caller: &Caller,
    named: &[NamedRecipient],
    bad: &mut Violations,
) -> Vec<ConsentTo> {
    let dir = ctx.directory.snapshot();
    let region = dir
        .orgs
        .get(caller.oin())
        .map(|e| e.org.region.clone())
        .unwrap_or_default();
    let mut out: Vec<ConsentTo> = Vec::new();
    for r in named {
        match &r.to {
            ConsentTo::Oin(o) => {
                if !ctx.is_active_org(o) {
                    bad.push((
                        r.field,
                        format!("{o} is not an active organisation in the directory"),
                    ));
                } else if !out.contains(&r.to) {
                    out.push(r.to.clone());
                }
            }
            // An unknown sector is reported by the caller.
            ConsentTo::Sector(s) if !ctx.policy.is_known_sector(s) => {}
            ConsentTo::Sector(s) => {
                let mut oins: Vec<crate::ids::Oin> = dir
                    .orgs
                    .iter()
                    .filter(|(_, e)| {
                        e.org.status == crate::domain::directory::OrgStatus::Active
                            && e.org.sector.to_string() == *s
                            && e.org.region == region
                    })
                    .map(|(o, _)| o.clone())
                    .collect();
                oins.sort();
                if oins.is_empty() {
                    bad.push((
                        r.field,
                        format!(
                            "no active {} organisation in your region ({:?}) in the directory: \
                             name the organisation by its OIN",
                            echo(s),
                            echo(&region)
                        ),
                    ));
                }
                for o in oins {
                    let to = ConsentTo::Oin(o);
                    if !out.contains(&to) {
                        out.push(to);
                    }
                }
            }
        }
    }
    out
}

/// `RecordConsent`: stores the consent with its `consent_recorded` entry.
pub async fn record(ctx: &Ctx, caller: &Caller, cmd: RecordConsent) -> FlowResult<Consent> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let p = &ctx.policy;
    let mut bad = cmd.invalid;
    for r in cmd.recipients.iter().chain(&cmd.disclosers) {
        if let ConsentTo::Sector(s) = &r.to
            && !p.is_known_sector(s)
        {
            bad.push((
                r.field,
                if r.field.ends_with(".sector") {
                    "a sector that takes part in the convenant".into()
                } else {
                    format!("{:?} is not a sector of the convenant", echo(s))
                },
            ));
        }
    }
    let recipients = resolve_recipients(ctx, caller, &cmd.recipients, &mut bad);
    let mut disclosers: Vec<crate::ids::Oin> =
        resolve_recipients(ctx, caller, &cmd.disclosers, &mut bad)
            .into_iter()
            .filter_map(|d| match d {
                ConsentTo::Oin(o) => Some(o),
                ConsentTo::Sector(_) => None,
            })
            .collect();
    if disclosers.is_empty() {
        disclosers.push(caller.oin().clone());
    }
    check_list(
        "purposes",
        &cmd.purposes,
        |n| p.is_known_purpose(n),
        true,
        &mut bad,
    );
    check_list(
        "categories",
        &cmd.categories,
        |n| p.is_known_category(n),
        true,
        &mut bad,
    );
    let t = now();
    let valid_from = cmd.valid_from.unwrap_or(t);
    let valid_until = match cmd.valid_until {
        None => {
            bad.push((
                "valid_until",
                "a consent is given for a period: set its end".into(),
            ));
            0
        }
        Some(u) if u <= valid_from => {
            bad.push(("valid_until", "must be after valid_from".into()));
            0
        }
        Some(u) if u - valid_from > MAX_VALIDITY_SECS => {
            bad.push(("valid_until", "at most five years after valid_from".into()));
            0
        }
        Some(u) => u,
    };
    reject(bad)?;
    let Some(bsn) = &cmd.subject else {
        return Err(FlowError::invalid("subject_bsn", "not a valid BSN"));
    };
    let subject = ctx.pseudonymizer.subject(bsn);
    ctx.refuse_merged_references(std::slice::from_ref(bsn), std::slice::from_ref(&subject))
        .await?;
    // Keep the record as long as anything disclosed under it may be kept.
    let longest = cmd
        .purposes
        .iter()
        .filter_map(|pu| p.retention_for(pu))
        .max()
        .unwrap_or(0) as i64;
    let consent = Consent {
        id: new_id::<crate::ids::Consent>()?,
        subject: subject.current().clone(),
        recorded_by_oin: caller.oin().clone(),
        recorded_by: caller.professional.id.clone(),
        givers: cmd.givers,
        recipients,
        disclosers,
        purposes: cmd.purposes,
        categories: cmd.categories,
        valid_from,
        valid_until,
        explicit: cmd.explicit,
        evidence_reference: cmd.evidence_reference,
        facts: cmd.facts,
        recorded_at: t,
        withdrawn_at: None,
        withdrawn_by: None,
        retain_until: valid_until + longest,
    };
    let mut e = ctx
        .entry(
            caller,
            &role,
            Event::ConsentRecorded,
            EntryOutcome::Recorded,
        )
        .subjects([subject.as_str()])
        .categories(consent.categories.iter().cloned())
        .basis_strings(
            consent
                .purposes
                .iter()
                .map(|p| format!("purpose:{p}"))
                .collect(),
        )
        .reference(consent.id.clone());
    e.entry.purpose = consent.purposes.first().map(|p| p.to_string());
    e.entry.checks.consent = true;
    ctx.store.insert_consent(&consent, &e).await?;
    Ok(consent)
}

/// `WithdrawConsent`: records the withdrawal and holds back, in the same transaction, every
/// pending delivery that relied on the consent. Returns the consent and how many were held back.
pub async fn withdraw(
    ctx: &Ctx,
    caller: &Caller,
    consent_id: &crate::ids::ConsentId,
    withdrawn_by: &str,
) -> FlowResult<(Consent, u32)> {
    let role = ctx.acting_role(caller, None)?;
    let existing = ctx
        .store
        .get_consents(std::slice::from_ref(consent_id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| FlowError::NotFound(format!("no consent {:?}", echo(consent_id))))?;
    if !concerns(&existing, caller) {
        return Err(FlowError::Forbidden(
            "only the organisation that recorded a consent, or one it names as recipient, can register its withdrawal".into(),
        ));
    }
    let e = ctx
        .entry(
            caller,
            &role,
            Event::ConsentWithdrawn,
            EntryOutcome::Recorded,
        )
        .subjects([existing.subject.as_str()])
        .categories(existing.categories.iter().cloned())
        .reference(existing.id.clone());
    ctx.store
        .withdraw_consent(
            consent_id,
            withdrawn_by,
            e.entry.at,
            &e,
            |recipient, _sender, signal_id| {
                ctx.entry(caller, &role, Event::SignalWithheld, EntryOutcome::Withheld)
                    .subjects([existing.subject.as_str()])
                    .recipient(recipient)
                    .categories(existing.categories.iter().cloned())
                    .basis_strings(vec![format!("consent:{}", existing.id)])
                    .reasons(["CONSENT_WITHDRAWN"])
                    .reference(signal_id)
            },
        )
        .await
        .map_err(|err| match err {
            StoreError::Conflict(_) => {
                FlowError::Precondition("this consent was already withdrawn".into())
            }
            other => other.into(),
        })
}

/// `ListConsents`: the consents about `subject` that the caller's organisation recorded or is
/// named in (active ones unless `include_inactive`); the listing is logged as a read.
pub async fn list(
    ctx: &Ctx,
    caller: &Caller,
    subject: &Bsn,
    include_inactive: bool,
    acting_role: Option<&Role>,
) -> FlowResult<Vec<Consent>> {
    let role = ctx.acting_role(caller, acting_role)?;
    ctx.require_convenant_role(caller, &role)?;
    let subject = ctx.pseudonymizer.subject(subject);
    let t = now();
    let consents: Vec<Consent> = ctx
        .store
        .list_consents(subject.all())
        .await?
        .into_iter()
        .filter(|k| concerns(k, caller))
        .filter(|k| include_inactive || (k.withdrawn_at.is_none() && k.valid_until > t))
        .collect();
    // Listing consents is a read of personal data: logged.
    let e = ctx
        .entry(caller, &role, Event::ConsentsListed, EntryOutcome::Recorded)
        .subjects([subject.as_str()]);
    ctx.store.append_log(std::slice::from_ref(&e)).await?;
    Ok(consents)
}
