//! What a professional (through the console, `web/`) or one of the organisation's own systems
//! (through the local API, `api/`) can do, written once: the same checks before the hub is asked,
//! the same hub calls through client-lib, the same lines in the gateway's audit log. The edges
//! only translate their input into these types and the answers into HTML or JSON; no rule of the
//! convenant is decided here (the hub decides).
use crate::app::App;
use crate::session::Professional;
use crate::store::{Received, Sent, StoreError, now_unix};
use crate::web::i18n::Lang;
use prost::Message;
use signaalhub_client::involvement::SafetyPlan;
use signaalhub_client::sealed::{self, Outgoing};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ClientError, HubClient, sector_from_name};

/// Longest signal text the gateway seals (the envelope limit is larger; this keeps forms sane).
pub const MAX_TEXT: usize = 64 * 1024;

/// Longest contact text for a recorded involvement.
pub const MAX_CONTACT: usize = 200;

/// Why a BSN as typed is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BsnIssue {
    /// Nothing typed.
    Empty,
    /// Nine digits that fail the elfproef.
    Elfproef,
    /// Not 8 or 9 digits.
    Format,
    /// Starts `SH-` but is not a reference's 13 letters (no I, L, O or U).
    Reference,
    /// A reference whose check letter does not match.
    CheckLetter,
}

impl BsnIssue {
    /// What to fix, in `lang` (never the number itself).
    pub fn describe(self, lang: Lang) -> &'static str {
        match self {
            BsnIssue::Empty => lang.t(
                "BSN: vul het BSN van het kind in, of de referentie van de hub (SH-…) als er geen BSN is.",
                "BSN: enter the child's BSN, or the hub's reference (SH-…) when there is none.",
            ),
            BsnIssue::Elfproef => lang.t(
                "BSN: dit nummer voldoet niet aan de elfproef; controleer het op een tikfout.",
                "BSN: this number fails the elfproef; check it for a typing error.",
            ),
            BsnIssue::Format => lang.t(
                "BSN: 9 cijfers (of 8 zonder voorloopnul), of een referentie van de hub (SH-…).",
                "BSN: 9 digits (or 8 without the leading zero), or a reference from the hub (SH-…).",
            ),
            BsnIssue::Reference => lang.t(
                "Referentie: SH- en dan 13 letters (zonder I, L, O of U).",
                "Reference: SH- followed by 13 letters (without I, L, O or U).",
            ),
            BsnIssue::CheckLetter => lang.t(
                "Referentie: de controleletter klopt niet; controleer de referentie op een tikfout.",
                "Reference: the check letter does not match; check the reference for a typing error.",
            ),
        }
    }
}

/// The subject rule of every screen and endpoint: spaces and dots removed, then either a
/// subject reference the hub issued for a person without a BSN (`SH-` + 13 letters, any case;
/// returned uppercased) or the proto crate's elfproef (returns the digits). The hub checks both
/// again; this only says what to fix before it is asked.
pub fn bsn_rule(typed: &str) -> Result<String, BsnIssue> {
    use signaalhub_client::signaalhub_proto::{
        BsnProblem, REFERENCE_PREFIX, ReferenceProblem, bsn_digits, subject_reference,
    };
    let bsn = typed.replace([' ', '.'], "");
    if let Some(r) = subject_reference(&bsn) {
        return match r {
            Ok(letters) => Ok(format!(
                "{REFERENCE_PREFIX}{}",
                String::from_utf8_lossy(&letters)
            )),
            Err(ReferenceProblem::Form) => Err(BsnIssue::Reference),
            Err(ReferenceProblem::CheckLetter) => Err(BsnIssue::CheckLetter),
        };
    }
    match bsn_digits(&bsn) {
        Ok(_) => Ok(bsn),
        Err(_) if bsn.is_empty() => Err(BsnIssue::Empty),
        Err(BsnProblem::Elfproef) => Err(BsnIssue::Elfproef),
        Err(_) => Err(BsnIssue::Format),
    }
}

#[cfg(test)]
mod subject_rule_tests {
    use super::{BsnIssue, bsn_rule};

    #[test]
    fn a_bsn_or_a_reference_passes_and_what_to_fix_is_named() {
        assert_eq!(bsn_rule("1234.56.782").as_deref(), Ok("123456782"));
        // A reference as a person types it: lower case, a space.
        assert_eq!(
            bsn_rule("sh-abcdef ghjkmny").as_deref(),
            Ok("SH-ABCDEFGHJKMNY")
        );
        assert_eq!(bsn_rule("SH-ABCDEFGHJKMNZ"), Err(BsnIssue::CheckLetter));
        // Two neighbours swapped: caught by the check letter.
        assert_eq!(bsn_rule("SH-BACDEFGHJKMNY"), Err(BsnIssue::CheckLetter));
        assert_eq!(bsn_rule("SH-ABCDEFGHIJKMN"), Err(BsnIssue::Reference));
        assert_eq!(bsn_rule("SH-ABC"), Err(BsnIssue::Reference));
        assert_eq!(bsn_rule("123456789"), Err(BsnIssue::Elfproef));
        assert_eq!(bsn_rule("SH"), Err(BsnIssue::Format));
        assert_eq!(bsn_rule(" "), Err(BsnIssue::Empty));
        assert_eq!(bsn_rule("ß-ABCDEFGHJKMNY"), Err(BsnIssue::Format));
    }
}

/// What the caller is about to do with a signal draft (which problems apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Asking the convenant.
    Check,
    /// Recording a consent.
    RecordConsent,
    /// Sending.
    Send,
}

/// A problem with one field of a draft, found before the hub is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    /// The BSN.
    Bsn(BsnIssue),
    /// The age is not a number of years (0-120).
    Age,
    /// No recipient OIN.
    Recipient,
    /// No purpose.
    Purpose,
    /// No category.
    Categories,
    /// Neither a consent nor a legal basis.
    Basis,
    /// No text to send.
    TextEmpty,
    /// The text is longer than [`MAX_TEXT`].
    TextTooLong,
    /// The signal id is not one the hub accepts.
    SignalId,
}

impl FieldProblem {
    /// The field's name in the local API.
    pub fn field(self) -> &'static str {
        match self {
            FieldProblem::Bsn(_) => "bsn",
            FieldProblem::Age => "age",
            FieldProblem::Recipient => "recipient",
            FieldProblem::Purpose => "purpose",
            FieldProblem::Categories => "categories",
            FieldProblem::Basis => "basis",
            FieldProblem::TextEmpty | FieldProblem::TextTooLong => "text",
            FieldProblem::SignalId => "signal_id",
        }
    }

    /// What to fix, in `lang`.
    pub fn describe(self, lang: Lang) -> &'static str {
        match self {
            FieldProblem::Bsn(i) => i.describe(lang),
            FieldProblem::Age => lang.t("Leeftijd: een getal in jaren.", "Age: a number of years."),
            FieldProblem::Recipient => lang.t(
                "Ontvanger: kies een organisatie.",
                "Recipient: choose an organisation.",
            ),
            FieldProblem::Purpose => lang.t("Doel: kies een doel.", "Purpose: choose a purpose."),
            FieldProblem::Categories => lang.t(
                "Gegevens: kies minstens één categorie.",
                "Data: choose at least one category.",
            ),
            FieldProblem::Basis => lang.t(
                "Grondslag: vink een vastgelegde toestemming aan of leg er hieronder een vast, of kies een wettelijke grondslag.",
                "Basis: tick a recorded consent or record one below, or choose a legal basis.",
            ),
            FieldProblem::TextEmpty => lang.t(
                "Bericht: schrijf het signaal.",
                "Message: write the signal.",
            ),
            FieldProblem::TextTooLong => lang.t(
                "Bericht: te lang (ten hoogste 64 kB).",
                "Message: too long (at most 64 kB).",
            ),
            FieldProblem::SignalId => lang.t(
                "Het formulier is beschadigd; open het opnieuw.",
                "The form is damaged; open it again.",
            ),
        }
    }
}

/// A signal, or the question whether it may be sent, as the caller describes it.
#[derive(Debug, Clone, Default)]
pub struct SignalDraft {
    /// Chosen once per signal, so a retry is the same signal.
    pub signal_id: String,
    /// The child's BSN (spaces and dots already removed; checked by [`bsn_rule`]).
    pub bsn: String,
    /// Age in years as given ("" when not given).
    pub age: String,
    /// Holders of gezag as references into the organisation's own file (`ouder-1`).
    pub gezag: Vec<String>,
    /// Recipient OIN.
    pub recipient: String,
    /// The convenant purpose.
    pub purpose: String,
    /// The convenant categories.
    pub categories: Vec<String>,
    /// A legal basis by name, or "" / `toestemming` for consent.
    pub basis: String,
    /// Consent ids to rely on.
    pub consents: Vec<String>,
    /// `normal`, `high` or `acute`.
    pub urgency: String,
    /// The convenant role acted in ("" lets the hub choose from the caller's roles).
    pub role: String,
    /// The evidence that goes with a legal basis (the meldcode's steps, the afwegingskader, ...);
    /// none: empty evidence.
    pub evidence: Option<pb::Evidence>,
}

impl SignalDraft {
    /// The facts about the child that go with the question.
    pub fn facts(&self) -> pb::SubjectFacts {
        pb::SubjectFacts {
            age_years: self.age.parse().ok(),
            age_band: 0,
            gezag_holders: self.gezag.clone(),
        }
    }

    /// The basis: a legal one by name, and the consents ticked.
    pub fn basis(&self) -> pb::Basis {
        let legal =
            (!self.basis.is_empty() && self.basis != "toestemming").then(|| pb::LegalBasis {
                basis: self.basis.clone(),
                evidence: Some(self.evidence.clone().unwrap_or_default()),
            });
        pb::Basis {
            legal,
            consent_ids: self.consents.clone(),
        }
    }

    /// The urgency on the wire (anything unknown is normal).
    pub fn urgency(&self) -> pb::Urgency {
        match self.urgency.as_str() {
            "high" => pb::Urgency::High,
            "acute" => pb::Urgency::Acute,
            _ => pb::Urgency::Normal,
        }
    }

    /// What is missing or malformed for `step`, without asking the hub. `text` is the signal's
    /// text (only looked at when sending).
    pub fn problems(&self, step: Step, text: &str) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        if let Err(i) = bsn_rule(&self.bsn) {
            out.push(FieldProblem::Bsn(i));
        }
        if !self.age.is_empty() && self.age.parse::<u32>().map_or(true, |a| a > 120) {
            out.push(FieldProblem::Age);
        }
        if !sealed::is_oin(&self.recipient) {
            out.push(FieldProblem::Recipient);
        }
        if self.purpose.is_empty() {
            out.push(FieldProblem::Purpose);
        }
        if self.categories.is_empty() {
            out.push(FieldProblem::Categories);
        }
        // Recording a consent is how this one gets fixed.
        if step != Step::RecordConsent
            && (self.basis.is_empty() || self.basis == "toestemming")
            && self.consents.is_empty()
        {
            out.push(FieldProblem::Basis);
        }
        if step == Step::Send {
            if text.trim().is_empty() {
                out.push(FieldProblem::TextEmpty);
            }
            if text.len() > MAX_TEXT {
                out.push(FieldProblem::TextTooLong);
            }
            if !sealed::valid_signal_id(&self.signal_id) {
                out.push(FieldProblem::SignalId);
            }
        }
        out
    }
}

/// The hub's `CheckBasis` for a draft: the decision `SendSignal` would make. Not logged by the
/// gateway (the hub logs what its rules require).
pub async fn check(hub: &mut HubClient, d: &SignalDraft) -> Result<pb::Decision, ClientError> {
    hub.check_basis(pb::CheckBasisRequest {
        recipient_oin: d.recipient.clone(),
        purpose: d.purpose.clone(),
        categories: d.categories.clone(),
        subject_bsn: d.bsn.clone(),
        subject: Some(d.facts()),
        basis: Some(d.basis()),
        acting_role: d.role.clone(),
        received_for: String::new(),
        inform_exemption: String::new(),
    })
    .await
}

/// A consent to record, for the draft's child, recipient, purpose and categories.
#[derive(Debug, Clone, Default)]
pub struct ConsentDraft {
    /// Who gave it: holders of gezag by their reference, or `kind` (the child itself).
    pub givers: Vec<String>,
    /// For every organisation of the recipient's sector in the region, not only the recipient.
    pub whole_sector: bool,
    /// Valid for this many months (1-24).
    pub months: i64,
    /// The evidence reference (the signed form's number).
    pub evidence: String,
    /// Explicit consent, also for special categories.
    pub explicit: bool,
    /// For the organisations of these sectors in the region, instead of the draft's recipient,
    /// and presentable by them as well as by the recording organisation: the parties of a case
    /// (casusafstemming) that share with each other. Empty: the draft's recipient.
    pub sectors: Vec<pb::Sector>,
}

/// Why a consent was not recorded.
#[derive(Debug)]
pub enum ConsentProblem {
    /// Nobody is named as having given it.
    NoGivers,
    /// The validity is not 1 to 24 months.
    Months,
    /// The hub refused or could not be reached.
    Hub(ClientError),
}

/// Records a consent at the hub (`RecordConsent`) and in the gateway's audit log.
pub async fn record_consent(
    app: &App,
    actor: &Professional,
    hub: &mut HubClient,
    d: &SignalDraft,
    c: &ConsentDraft,
) -> Result<pb::Consent, ConsentProblem> {
    if c.givers.is_empty() {
        return Err(ConsentProblem::NoGivers);
    }
    if !(1..=24).contains(&c.months) {
        return Err(ConsentProblem::Months);
    }
    let givers = c
        .givers
        .iter()
        .map(|g| pb::ConsentGiver {
            person: g.clone(),
            capacity: if d.gezag.contains(g) {
                pb::GiverCapacity::GezagHolder as i32
            } else {
                pb::GiverCapacity::Subject as i32
            },
        })
        .collect();
    use pb::consent_recipient::Recipient as R;
    let to = |r: R| pb::ConsentRecipient { recipient: Some(r) };
    let (recipients, disclosers) = if c.sectors.is_empty() {
        (vec![to(single_recipient(hub, d, c).await?)], Vec::new())
    } else {
        let sectors: Vec<_> = c.sectors.iter().map(|s| to(R::Sector(*s as i32))).collect();
        let mut disclosers = sectors.clone();
        disclosers.push(to(R::Oin(app.oin().to_owned())));
        (sectors, disclosers)
    };
    // A month is a twelfth of 365 days, as in the convenant.
    let until = now_unix() + c.months * 365 * 86_400 / 12;
    let consent = hub
        .record_consent(pb::RecordConsentRequest {
            subject_bsn: d.bsn.clone(),
            subject: Some(d.facts()),
            givers,
            recipients,
            purposes: vec![d.purpose.clone()],
            categories: d.categories.clone(),
            valid_from: None,
            valid_until: Some(prost_types::Timestamp {
                seconds: until,
                nanos: 0,
            }),
            explicit: c.explicit,
            evidence_reference: c.evidence.clone(),
            acting_role: d.role.clone(),
            disclosers,
        })
        .await
        .map_err(ConsentProblem::Hub)?;
    let _ = app
        .store
        .audit(&actor.id, "consent_recorded", &consent.consent_id)
        .await;
    Ok(consent)
}

/// The draft's recipient, or its whole sector in the region.
async fn single_recipient(
    hub: &mut HubClient,
    d: &SignalDraft,
    c: &ConsentDraft,
) -> Result<pb::consent_recipient::Recipient, ConsentProblem> {
    use pb::consent_recipient::Recipient as R;
    Ok(if c.whole_sector {
        let org = hub
            .get_organization(&d.recipient)
            .await
            .map_err(ConsentProblem::Hub)?;
        org.organization
            .and_then(|o| sector_from_name(&o.sector_name))
            .map(|s| R::Sector(s as i32))
            .unwrap_or_else(|| R::Oin(d.recipient.clone()))
    } else {
        R::Oin(d.recipient.clone())
    })
}

/// The consents about a child that concern this organisation (`ListConsents`; the hub logs it).
pub async fn list_consents(
    hub: &mut HubClient,
    bsn: &str,
    include_inactive: bool,
) -> Result<Vec<pb::Consent>, ClientError> {
    hub.list_consents(bsn, include_inactive).await
}

/// Withdraws a consent at once on behalf of `withdrawn_by` (`WithdrawConsent`), and writes it to
/// the gateway's audit log.
pub async fn withdraw_consent(
    app: &App,
    actor: &Professional,
    hub: &mut HubClient,
    consent_id: &str,
    withdrawn_by: &str,
) -> Result<pb::WithdrawConsentResponse, ClientError> {
    let r = hub.withdraw_consent(consent_id, withdrawn_by).await?;
    let _ = app
        .store
        .audit(&actor.id, "consent_withdrawn", consent_id)
        .await;
    Ok(r)
}

/// Seals `text` here to the recipient's published keys, signs it with the organisation's key and
/// sends it (`SendSignal`); keeps the sent record and the audit line. Returns the signal id.
pub async fn send(
    app: &App,
    actor: &Professional,
    hub: &mut HubClient,
    d: &SignalDraft,
    text: &str,
) -> Result<String, ClientError> {
    let out = Outgoing {
        signal_id: d.signal_id.clone(),
        recipient_oins: vec![d.recipient.clone()],
        subject_bsn: d.bsn.clone(),
        subject: d.facts(),
        purpose: d.purpose.clone(),
        categories: d.categories.clone(),
        urgency: d.urgency(),
        basis: d.basis(),
        acting_role: d.role.clone(),
    };
    let sent = sealed::send_sealed(hub, &app.sender, out, text.as_bytes()).await?;
    let retain_until = sent
        .decisions
        .iter()
        .filter_map(|d| d.retain_until.as_ref().map(|t| t.seconds))
        .max();
    let record = Sent {
        signal_id: sent.signal_id.clone(),
        recipients: vec![d.recipient.clone()],
        purpose: d.purpose.clone(),
        categories: d.categories.clone(),
        sent_at: now_unix(),
        sent_by: actor.id.clone(),
        retain_until,
    };
    // The hub has the signal; the gateway's own record failing must not hide that it was sent.
    if let Err(e) = app.store.put_sent(&record).await {
        tracing::warn!(error = %e, "could not keep the sent signal's record");
    }
    let _ = app.store.audit(&actor.id, "sent", &sent.signal_id).await;
    Ok(sent.signal_id)
}

/// A sent signal's state per recipient, from the hub (`GetSignal`).
pub async fn status(
    app: &App,
    actor: &Professional,
    signal_id: &str,
) -> Result<pb::GetSignalResponse, ClientError> {
    app.hub_as(actor)?.get_signal(app.oin(), signal_id).await
}

/// Recalls a signal wherever it was not delivered yet (`WithdrawSignal`), and writes it to the
/// audit log.
pub async fn recall(
    app: &App,
    actor: &Professional,
    signal_id: &str,
) -> Result<pb::WithdrawSignalResponse, ClientError> {
    let r = app.hub_as(actor)?.withdraw_signal(signal_id).await?;
    let _ = app.store.audit(&actor.id, "recalled", signal_id).await;
    Ok(r)
}

/// Whether a received item's key can be one: a sender OIN and an id of 1-64 bytes.
pub fn valid_received_key(sender: &str, id: &str) -> bool {
    sealed::is_oin(sender) && (1..=64).contains(&id.len())
}

/// Why a received signal could not be looked up.
#[derive(Debug)]
pub enum OpenError {
    /// Not here (never, or no longer: retention).
    NotFound,
    /// The store cannot be read.
    Store(StoreError),
    /// The audit log cannot be written, so nothing is shown.
    Audit(StoreError),
}

/// Why a received envelope, found and logged, could not be opened.
#[derive(Debug)]
pub enum Unopened {
    /// The stored envelope does not decode.
    Damaged,
    /// The hub (for the sender's key) could not be asked.
    Hub(ClientError),
    /// The binding, the signature or the decryption failed (a sentence without payload bytes).
    Refused(String),
}

/// Looks up a received signal, writes who opens it to the audit log **before** anything is
/// opened (NEN 7513; nothing is returned when the log cannot be written), then checks the
/// envelope against the item, verifies the sender's signature against the directory and opens it.
pub async fn open_received(
    app: &App,
    actor: &Professional,
    sender: &str,
    signal_id: &str,
) -> Result<(Received, Result<Vec<u8>, Unopened>), OpenError> {
    if !valid_received_key(sender, signal_id) {
        return Err(OpenError::NotFound);
    }
    let item = match app.store.get_received(sender, signal_id).await {
        Ok(Some(i)) => i,
        Ok(None) => return Err(OpenError::NotFound),
        Err(e) => return Err(OpenError::Store(e)),
    };
    app.store
        .audit(&actor.id, "opened", &format!("{sender}/{signal_id}"))
        .await
        .map_err(OpenError::Audit)?;
    let opened = match pb::Envelope::decode(item.envelope.as_slice()) {
        Err(_) => Err(Unopened::Damaged),
        Ok(env) => match app.hub_as(actor) {
            Err(e) => Err(Unopened::Hub(e)),
            Ok(mut hub) => {
                let mut keys = app.sender_keys.lock().await;
                sealed::open_received(
                    &mut hub,
                    &mut keys,
                    &app.secrets,
                    &item.sender_oin,
                    &item.signal_id,
                    &item.purpose,
                    &item.categories,
                    &env,
                )
                .await
                .map_err(Unopened::Refused)
            }
        },
    };
    Ok((item, opened))
}

/// Whether `p` may read this gateway's zorgmeldingen: a professional with a role the convenant
/// gives the Veilig Thuis sector (the hub delivers to the organisation; inside it, the melding is
/// for those who triage it, not for every role, e.g. not for the FG).
pub fn handles_zorgmeldingen(app: &App, p: &Professional) -> bool {
    holds_role_of(app, p, Some(pb::Sector::VeiligThuis))
}

/// Whether `p` may work on cases in this gateway: a professional with a role the convenant gives
/// some sector (a case worker), not an account with only other roles such as `fg`. The hub
/// answers a case to every professional of a party organisation; inside the organisation the
/// gateway keeps the case's content to those who work on cases.
pub fn works_on_cases(app: &App, p: &Professional) -> bool {
    holds_role_of(app, p, None)
}

/// Whether `p` holds a role the convenant gives `sector` (any sector when `None`).
pub fn holds_role_of(app: &App, p: &Professional, sector: Option<pb::Sector>) -> bool {
    app.convenant
        .sectors
        .iter()
        .filter(|s| sector.is_none() || sector_from_name(&s.name) == sector)
        .any(|s| s.roles.iter().any(|r| p.roles.contains(r)))
}

/// The roles of `p` that the convenant gives `sector` (to act in), in `p`'s order.
pub fn roles_of(app: &App, p: &Professional, sector: pb::Sector) -> Vec<String> {
    let of_sector: Vec<&String> = app
        .convenant
        .sectors
        .iter()
        .filter(|s| sector_from_name(&s.name) == Some(sector))
        .flat_map(|s| s.roles.iter())
        .collect();
    p.roles
        .iter()
        .filter(|r| of_sector.contains(r))
        .cloned()
        .collect()
}

/// A zorgmelding opened here: the stored melding, as delivered, and each fragment opened (in
/// the melding's order) or why not.
pub type OpenedMelding = (
    crate::store::StoredMelding,
    pb::Zorgmelding,
    Vec<Result<Vec<u8>, Unopened>>,
);

/// Looks up a stored zorgmelding, writes who opens it to the audit log **before** anything is
/// opened (nothing is returned when the log cannot be written), then checks each fragment's
/// envelope against the melding, verifies the police's signature against the directory and
/// opens it.
pub async fn open_melding(
    app: &App,
    actor: &Professional,
    zorgmelding_id: &str,
) -> Result<OpenedMelding, OpenError> {
    if !sealed::valid_signal_id(zorgmelding_id) {
        return Err(OpenError::NotFound);
    }
    let stored = match app.store.get_melding(zorgmelding_id).await {
        Ok(Some(m)) => m,
        Ok(None) => return Err(OpenError::NotFound),
        Err(e) => return Err(OpenError::Store(e)),
    };
    app.store
        .audit(&actor.id, "zorgmelding_opened", zorgmelding_id)
        .await
        .map_err(OpenError::Audit)?;
    let Ok(m) = pb::Zorgmelding::decode(stored.melding.as_slice()) else {
        return Ok((
            stored,
            pb::Zorgmelding::default(),
            vec![Err(Unopened::Damaged)],
        ));
    };
    let mut opened = Vec::with_capacity(m.fragments.len());
    let mut hub = match app.hub_as(actor) {
        Ok(h) => h,
        Err(e) => {
            opened.push(Err(Unopened::Hub(e)));
            return Ok((stored, m, opened));
        }
    };
    let mut keys = app.sender_keys.lock().await;
    for f in &m.fragments {
        let one = match &f.envelope {
            None => Err(Unopened::Refused(
                "the fragment has no envelope (erased?)".into(),
            )),
            Some(env) => sealed::open_received(
                &mut hub,
                &mut keys,
                &app.secrets,
                &m.police_oin,
                &f.fragment_id,
                &m.purpose,
                &f.categories,
                env,
            )
            .await
            .map_err(Unopened::Refused),
        };
        opened.push(one);
    }
    drop(keys);
    Ok((stored, m, opened))
}

/// Acknowledges a received signal at the hub (the sender sees it), then in the gateway's store
/// and audit log.
pub async fn acknowledge(
    app: &App,
    actor: &Professional,
    sender: &str,
    signal_id: &str,
) -> Result<(), ClientError> {
    app.hub_as(actor)?.ack_signal(sender, signal_id).await?;
    if let Err(e) = app
        .store
        .mark_acknowledged(sender, signal_id, &actor.id)
        .await
    {
        tracing::warn!(error = %e, "inbox acknowledge");
    }
    let _ = app
        .store
        .audit(&actor.id, "acknowledged", &format!("{sender}/{signal_id}"))
        .await;
    Ok(())
}

/// Records the organisation's involvement with a child (`RegisterInvolvement`), on the consents
/// given (the basis for telling the other involved parties; none: matches are withheld).
pub async fn register_involvement(
    app: &App,
    actor: &Professional,
    hub: &mut HubClient,
    bsn: &str,
    contact: &str,
    consents: &[String],
) -> Result<pb::RegisterInvolvementResponse, ClientError> {
    let basis = (!consents.is_empty()).then(|| pb::Basis {
        legal: None,
        consent_ids: consents.to_vec(),
    });
    let r = hub
        .register_involvement(pb::RegisterInvolvementRequest {
            subject_bsn: bsn.to_owned(),
            contact_professional: contact.to_owned(),
            basis,
            ..Default::default()
        })
        .await?;
    let object = r
        .involvement
        .as_ref()
        .map_or("-", |i| i.involvement_id.as_str());
    let _ = app
        .store
        .audit(&actor.id, "involvement_registered", object)
        .await;
    Ok(r)
}

/// The minimal question: does a child protection measure run for this child, and whom to call
/// (`HasMaatregel`; only an involved organisation gets an answer, and the GI is told on yes).
pub async fn ask_maatregel(
    app: &App,
    actor: &Professional,
    hub: &mut HubClient,
    bsn: &str,
) -> Result<pb::HasMaatregelResponse, ClientError> {
    let r = hub.has_maatregel(bsn).await?;
    let _ = app.store.audit(&actor.id, "maatregel_asked", "-").await;
    Ok(r)
}

/// The disclosure log's entries this organisation acted in or received (`ListDisclosures`, own
/// organisation; the hub answers only role `fg`).
pub async fn own_disclosures(
    app: &App,
    actor: &Professional,
) -> Result<Vec<pb::LogEntryView>, ClientError> {
    app.hub_as(actor)?
        .list_disclosures(pb::ListDisclosuresRequest {
            scope: Some(pb::list_disclosures_request::Scope::OwnOrganization(true)),
            page_size: 1000,
            ..Default::default()
        })
        .await
}

/// Whether `id` has the form of an id the hub made or a client chose (case, proposal): 1-64 of
/// `A-Za-z0-9._-`, no run of 9 digits. Whether it exists and concerns the caller is the hub's
/// question.
pub fn valid_record_id(id: &str) -> bool {
    sealed::valid_signal_id(id)
}

/// The cases this organisation shares about a child (`ListInvolvedParties`; the hub logs it).
pub async fn involved_parties(
    app: &App,
    actor: &Professional,
    hub: &mut HubClient,
    bsn: &str,
) -> Result<pb::ListInvolvedPartiesResponse, ClientError> {
    let r = hub.list_involved_parties(bsn).await?;
    let _ = app.store.audit(&actor.id, "cases_listed", "-").await;
    Ok(r)
}

/// Confirms that organisation `org` has contact with the child (`ConfirmInvolvement`), so that it
/// may register its involvement; returns until when (unix seconds).
pub async fn confirm_involvement(
    app: &App,
    actor: &Professional,
    hub: &mut HubClient,
    bsn: &str,
    org: &str,
) -> Result<i64, ClientError> {
    let until = hub.confirm_involvement(bsn, org).await?;
    let _ = app
        .store
        .audit(&actor.id, "involvement_confirmed", org)
        .await;
    Ok(until)
}

/// One case this organisation is a party of (`GetCase`; the hub logs it).
pub async fn case(app: &App, actor: &Professional, case_id: &str) -> Result<pb::Case, ClientError> {
    let c = app.hub_as(actor)?.get_case(case_id).await?;
    let _ = app.store.audit(&actor.id, "case_viewed", case_id).await;
    Ok(c)
}

/// Ends this organisation's involvement `involvement_id` (`EndInvolvement`; the case's other
/// parties are told). `involvement_ended` in the audit log.
pub async fn end_involvement(
    app: &App,
    actor: &Professional,
    involvement_id: &str,
) -> Result<pb::Involvement, ClientError> {
    let ended = app.hub_as(actor)?.end_involvement(involvement_id).await?;
    let _ = app
        .store
        .audit(&actor.id, "involvement_ended", involvement_id)
        .await;
    Ok(ended)
}

/// Proposes `oin` (this organisation's own to take it up) as the case's coordinator.
pub async fn propose_coordinator(
    app: &App,
    actor: &Professional,
    case_id: &str,
    oin: &str,
) -> Result<pb::ProposeCoordinatorResponse, ClientError> {
    let r = app.hub_as(actor)?.propose_coordinator(case_id, oin).await?;
    let _ = app
        .store
        .audit(&actor.id, "coordinator_proposed", case_id)
        .await;
    Ok(r)
}

/// Accepts or declines a coordinator proposal this organisation's answer is awaited for.
pub async fn respond_to_proposal(
    app: &App,
    actor: &Professional,
    proposal_id: &str,
    accept: bool,
) -> Result<pb::RespondToCoordinatorProposalResponse, ClientError> {
    let r = app
        .hub_as(actor)?
        .respond_to_coordinator_proposal(proposal_id, accept)
        .await?;
    let action = if accept {
        "coordinator_accepted"
    } else {
        "coordinator_declined"
    };
    let _ = app.store.audit(&actor.id, action, proposal_id).await;
    Ok(r)
}

/// Why a case's safety plan could not be shown.
#[derive(Debug)]
pub enum PlanProblem {
    /// The hub refused or could not be reached.
    Hub(ClientError),
    /// The audit log cannot be written, so nothing is opened.
    Audit(StoreError),
}

/// A safety plan version and, when it was sealed to this organisation, its content opened here
/// (or why it did not open).
pub type LatestPlan = (pb::SafetyPlanVersion, Option<Result<SafetyPlan, String>>);

/// A safety plan version of a case (`GetSafetyPlan`; `version` 0: the latest), with its content
/// opened here when it was sealed to this organisation: who opens it is written to the audit log
/// first (nothing is opened when it cannot be), then the author's signature is checked against
/// the directory.
pub async fn safety_plan(
    app: &App,
    actor: &Professional,
    case_id: &str,
    version: u32,
) -> Result<LatestPlan, PlanProblem> {
    let mut hub = app.hub_as(actor).map_err(PlanProblem::Hub)?;
    let v = hub
        .get_safety_plan(case_id, version)
        .await
        .map_err(PlanProblem::Hub)?;
    let Some(env) = &v.envelope else {
        return Ok((v, None));
    };
    app.store
        .audit(
            &actor.id,
            "plan_opened",
            &format!("{case_id}.v{}", v.version),
        )
        .await
        .map_err(PlanProblem::Audit)?;
    let key = app
        .sender_keys
        .lock()
        .await
        .get(&mut hub, &env.sender_oin, &env.sender_signing_key_id)
        .await;
    let opened =
        key.and_then(|k| SafetyPlan::open(env, &app.secrets, &k).map_err(|e| e.to_string()));
    Ok((v, Some(opened)))
}

/// Seals `plan` here to every party of `case` and publishes it as the next version
/// (`PublishSafetyPlan`), on the consents given.
pub async fn publish_safety_plan(
    app: &App,
    actor: &Professional,
    case: &pb::Case,
    plan: &SafetyPlan,
    consents: &[String],
) -> Result<pb::SafetyPlanVersion, ClientError> {
    let mut hub = app.hub_as(actor)?;
    // Every party, once (an organisation can be involved with several of a household).
    let parties: std::collections::BTreeSet<&String> =
        case.parties.iter().map(|p| &p.organization_oin).collect();
    let parties: Vec<String> = parties.into_iter().cloned().collect();
    let keys = hub.recipient_keys(&parties).await?;
    let basis = pb::Basis {
        legal: None,
        consent_ids: consents.to_vec(),
    };
    let request = plan
        .seal(
            &case.case_id,
            case.safety_plan_version + 1,
            basis,
            &app.sender,
            &keys,
            now_unix(),
        )
        .map_err(|e| ClientError::Config(format!("sealing: {e}")))?;
    let v = hub.publish_safety_plan(request).await?;
    let _ = app
        .store
        .audit(
            &actor.id,
            "plan_published",
            &format!("{}.v{}", v.case_id, v.version),
        )
        .await;
    Ok(v)
}

/// Confirms the agreements of a version that concern this organisation (`ConfirmSafetyPlan`).
pub async fn confirm_safety_plan(
    app: &App,
    actor: &Professional,
    case_id: &str,
    version: u32,
) -> Result<pb::SafetyPlanVersion, ClientError> {
    let v = app
        .hub_as(actor)?
        .confirm_safety_plan(case_id, version, Vec::new())
        .await?;
    let _ = app
        .store
        .audit(
            &actor.id,
            "plan_confirmed",
            &format!("{case_id}.v{version}"),
        )
        .await;
    Ok(v)
}

/// Most agreements in one version of a safety plan (the hub's limit).
pub const MAX_PLAN_AGREEMENTS: usize = 64;

/// Most organisations one agreement concerns (the hub's limit for a list).
pub const MAX_AGREEMENT_PARTIES: usize = 16;

/// Most consent ids one basis names (the hub's limit for a list).
pub const MAX_BASIS_CONSENTS: usize = 16;

/// A text field of a safety plan, with where it sits (agreements counted from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanText {
    /// The title (required).
    Title,
    /// What the plan is for.
    Goal,
    /// Whom the family calls when it goes wrong.
    EmergencyContact,
    /// Who of agreement `n`.
    Who(usize),
    /// What of agreement `n`.
    What(usize),
    /// By when of agreement `n`.
    ByWhen(usize),
}

impl PlanText {
    /// The most characters the console's form allows (the plan is sealed, so only the gateway
    /// can hold it to the form).
    pub fn max_chars(self) -> usize {
        match self {
            PlanText::Title | PlanText::EmergencyContact | PlanText::Who(_) => 200,
            PlanText::Goal | PlanText::What(_) => 500,
            PlanText::ByWhen(_) => 100,
        }
    }
}

/// What keeps a safety plan from being published, found before anything is sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanIssue {
    /// No title.
    NoTitle,
    /// No agreement.
    NoAgreements,
    /// More than [`MAX_PLAN_AGREEMENTS`] agreements.
    TooManyAgreements,
    /// Agreement `n` lacks its who or its what.
    AgreementIncomplete(usize),
    /// Agreement `n` names more than [`MAX_AGREEMENT_PARTIES`] organisations.
    TooManyParties(usize),
    /// Agreement `n` names something that is no OIN as the organisation it concerns.
    PartyOin(usize),
    /// No consent for casusafstemming.
    NoConsent,
    /// More than [`MAX_BASIS_CONSENTS`] consents.
    TooManyConsents,
    /// A text longer than the form allows.
    TooLong(PlanText),
}

/// The safety plan's rules before it is sealed, for the console's form and the local API alike:
/// a title, 1 to [`MAX_PLAN_AGREEMENTS`] agreements each with a who and a what and at most
/// [`MAX_AGREEMENT_PARTIES`] OINs, 1 to [`MAX_BASIS_CONSENTS`] consents, no text longer than
/// [`PlanText::max_chars`]. Whether the OINs are parties and the consents suffice is the hub's question.
pub fn plan_issues(plan: &SafetyPlan, consents: &[String]) -> Vec<PlanIssue> {
    let mut out = Vec::new();
    let mut long = |t: PlanText, s: &str| {
        if s.chars().count() > t.max_chars() {
            out.push(PlanIssue::TooLong(t));
        }
    };
    long(PlanText::Title, &plan.title);
    long(PlanText::Goal, &plan.goal);
    long(PlanText::EmergencyContact, &plan.emergency_contact);
    for (n, a) in plan.agreements.iter().take(MAX_PLAN_AGREEMENTS).enumerate() {
        long(PlanText::Who(n), &a.who);
        long(PlanText::What(n), &a.what);
        if let Some(w) = &a.by_when {
            long(PlanText::ByWhen(n), w);
        }
    }
    if plan.title.trim().is_empty() {
        out.push(PlanIssue::NoTitle);
    }
    if plan.agreements.is_empty() {
        out.push(PlanIssue::NoAgreements);
    }
    if plan.agreements.len() > MAX_PLAN_AGREEMENTS {
        out.push(PlanIssue::TooManyAgreements);
    }
    for (n, a) in plan.agreements.iter().take(MAX_PLAN_AGREEMENTS).enumerate() {
        if a.who.trim().is_empty() || a.what.trim().is_empty() {
            out.push(PlanIssue::AgreementIncomplete(n));
        }
        if a.party_oins.len() > MAX_AGREEMENT_PARTIES {
            out.push(PlanIssue::TooManyParties(n));
        }
        if a.party_oins.iter().any(|o| !sealed::is_oin(o)) {
            out.push(PlanIssue::PartyOin(n));
        }
    }
    if consents.is_empty() {
        out.push(PlanIssue::NoConsent);
    }
    if consents.len() > MAX_BASIS_CONSENTS {
        out.push(PlanIssue::TooManyConsents);
    }
    out
}

/// Whether an agreement of version `v` that concerns organisation `oin` still waits for its
/// confirmation (the console then offers *Confirm our agreements*).
pub fn awaits_confirmation(v: &pb::SafetyPlanVersion, oin: &str) -> bool {
    v.agreements.iter().any(|m| {
        m.party_oins.iter().any(|o| o == oin) && !m.confirmations.iter().any(|c| c.oin == oin)
    })
}

/// Why this organisation's agreements of a version were not confirmed.
#[derive(Debug)]
pub enum ConfirmProblem {
    /// The hub refused or could not be reached (no such version, no agreement concerns us, ...).
    Hub(ClientError),
    /// Every agreement of the version that concerns this organisation is confirmed already.
    AlreadyConfirmed,
}

/// Confirms the agreements of a version that concern this organisation, once: the version is
/// read first (`GetSafetyPlan`, not opened), and when every agreement that concerns the
/// organisation is confirmed already nothing is sent (the hub would log and tell the other
/// parties again). Otherwise as [`confirm_safety_plan`] (`plan_confirmed` in the audit log).
pub async fn confirm_safety_plan_once(
    app: &App,
    actor: &Professional,
    case_id: &str,
    version: u32,
) -> Result<pb::SafetyPlanVersion, ConfirmProblem> {
    let v = app
        .hub_as(actor)
        .map_err(ConfirmProblem::Hub)?
        .get_safety_plan(case_id, version)
        .await
        .map_err(ConfirmProblem::Hub)?;
    let me = app.oin();
    let concerns_us = v
        .agreements
        .iter()
        .any(|m| m.party_oins.iter().any(|o| o == me));
    if concerns_us && !awaits_confirmation(&v, me) {
        return Err(ConfirmProblem::AlreadyConfirmed);
    }
    confirm_safety_plan(app, actor, case_id, version)
        .await
        .map_err(ConfirmProblem::Hub)
}

/// The maatregelen of a child that this GI registered or runs (`ListMaatregelen`; the hub logs
/// it), `maatregelen_listed` in the audit log. The console's *Register* and the local API.
pub async fn list_maatregelen(
    app: &App,
    actor: &Professional,
    role: &str,
    bsn: &str,
    include_ended: bool,
) -> Result<Vec<pb::Maatregel>, ClientError> {
    let list = app
        .hub_as(actor)?
        .list_maatregelen_as(bsn, include_ended, role)
        .await?;
    let _ = app.store.audit(&actor.id, "maatregelen_listed", "-").await;
    Ok(list)
}

/// Registers a maatregel (`RegisterMaatregel`), `maatregel_registered` in the audit log.
pub async fn register_maatregel(
    app: &App,
    actor: &Professional,
    request: pb::RegisterMaatregelRequest,
) -> Result<pb::Maatregel, ClientError> {
    let m = app.hub_as(actor)?.register_maatregel(request).await?;
    let _ = app
        .store
        .audit(&actor.id, "maatregel_registered", &m.maatregel_id)
        .await;
    Ok(m)
}

/// Ends a maatregel now (`EndMaatregel`) with who has the case next (`next_oin`, may be
/// empty), `maatregel_ended` in the audit log; the answer says which involved organisations
/// were told.
pub async fn end_maatregel(
    app: &App,
    actor: &Professional,
    role: &str,
    maatregel_id: &str,
    next_oin: &str,
) -> Result<pb::EndMaatregelResponse, ClientError> {
    let r = app
        .hub_as(actor)?
        .end_maatregel_as(maatregel_id, next_oin, role)
        .await?;
    let _ = app
        .store
        .audit(&actor.id, "maatregel_ended", maatregel_id)
        .await;
    Ok(r)
}
