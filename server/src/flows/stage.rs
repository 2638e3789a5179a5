//! Stages of a melding at Veilig Thuis and their review moments (issue 19, item 7): Veilig Thuis
//! records where a melding addressed to it stands — triage, its own investigation, handed over,
//! monitoring, closed — and when it looks at it again. A review that falls due reaches Veilig
//! Thuis through its notification stream (`crate::reminders`). The stage also says whether the
//! melding is *under assessment*: only then may Veilig Thuis ask professionals for information
//! about it ([`super::information`]).
use super::error::{FlowError, FlowResult, Violations};
use super::triage::melding;
use super::{Ctx, now};
use crate::auth::Caller;
use crate::domain::zorgmelding::{
    DecisionKind, MeldingListing, MeldingPageKey, MeldingStage, StageRecord,
};
use crate::ids::{MeldingRef, Role};
use crate::ledger::{EntryOutcome, Event};
use crate::store::StoreError;

/// How far ahead a review may be planned: two years.
pub const MAX_REVIEW_AHEAD_SECS: i64 = 2 * 366 * 86_400;

/// A planned review moment must lie after `now` and within [`MAX_REVIEW_AHEAD_SECS`].
pub fn check_review_at(field: &'static str, at: Option<i64>, now: i64, bad: &mut Violations) {
    if let Some(at) = at
        && (at <= now || at > now.saturating_add(MAX_REVIEW_AHEAD_SECS))
    {
        bad.push((
            field,
            "a moment after now and within two years (a review already past cannot be planned)"
                .into(),
        ));
    }
}

/// The stage of a melding at Veilig Thuis `vt` now (TRIAGE when none was recorded).
pub(super) async fn current_stage(
    ctx: &Ctx,
    vt: &str,
    melding: &MeldingRef,
) -> FlowResult<MeldingStage> {
    Ok(Stages {
        melding: melding.clone(),
        history: ctx.store.melding_stages(vt, melding).await?,
    }
    .current())
}

/// `SetMeldingStage`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct SetStage {
    /// The melding.
    pub melding: MeldingRef,
    /// Its new stage.
    pub stage: MeldingStage,
    /// The next review (unix seconds).
    pub review_at: Option<i64>,
    /// The role the caller acts in.
    pub acting_role: Option<Role>,
}

/// Where a melding stands, with its recorded stages.
#[derive(Debug, Clone)]
pub struct Stages {
    /// The melding.
    pub melding: MeldingRef,
    /// The recorded stages, oldest first (none: the melding is in triage since it arrived).
    pub history: Vec<StageRecord>,
}

impl Stages {
    /// The stage now.
    pub fn current(&self) -> MeldingStage {
        self.history
            .last()
            .map_or(MeldingStage::Triage, |s| s.stage)
    }

    /// Whether Veilig Thuis is assessing the melding (it may ask for information).
    pub fn under_assessment(&self) -> bool {
        self.current().under_assessment()
    }
}

/// `SetMeldingStage`: the Veilig Thuis a melding was delivered to records its stage and the
/// review it plans (required for monitoring, refused for a closed melding). A closed melding
/// stays closed. Logged (`melding_stage_set`).
pub async fn set_stage(ctx: &Ctx, caller: &Caller, cmd: SetStage) -> FlowResult<Stages> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let m = melding(ctx, caller, &cmd.melding).await?;
    let t = now();
    let mut bad = Vec::new();
    match (cmd.stage, cmd.review_at) {
        (MeldingStage::Monitoring, None) => bad.push((
            "review_at",
            "monitoring needs its next review moment".into(),
        )),
        (MeldingStage::Afgesloten, Some(_)) => {
            bad.push(("review_at", "a closed melding has no review moment".into()))
        }
        _ => check_review_at("review_at", cmd.review_at, t, &mut bad),
    }
    super::reject(bad)?;
    let me = caller.oin().as_str();
    let stage = StageRecord {
        vt_oin: caller.oin().clone(),
        melding: m.id.clone(),
        seq: 0,
        stage: cmd.stage,
        review_at: cmd.review_at,
        review_state: None,
        subjects: m.subjects.clone(),
        purpose: m.purpose.clone(),
        role: role.clone(),
        professional: caller.professional.id.clone(),
        set_at: t,
    };
    let reasons = [
        Some(format!("stage:{}", cmd.stage.code())),
        cmd.review_at.map(|_| "review_planned".to_owned()),
    ];
    let e = ctx
        .entry(
            caller,
            &role,
            Event::MeldingStageSet,
            EntryOutcome::Recorded,
        )
        .subjects(m.subjects.iter().cloned())
        .about(&m.purpose, std::iter::empty::<&str>())
        .reasons(reasons.into_iter().flatten())
        .reference(m.id.as_str());
    ctx.store
        .insert_melding_stage(&stage, &e)
        .await
        .map_err(|err| match err {
            StoreError::Conflict(_) => FlowError::Precondition(format!(
                "melding {} is closed (AFGESLOTEN): a new melding starts again",
                m.id
            )),
            other => other.into(),
        })?;
    Ok(Stages {
        history: ctx.store.melding_stages(me, &m.id).await?,
        melding: m.id,
    })
}

/// `GetMeldingStages`: the stages of a melding, for the Veilig Thuis it was delivered to, in a
/// role of the convenant (its privacy officer: `PERMISSION_DENIED`; anyone else: `NOT_FOUND`, as
/// for the melding itself).
pub async fn stages(
    ctx: &Ctx,
    caller: &Caller,
    id: &MeldingRef,
    acting_role: Option<&Role>,
) -> FlowResult<Stages> {
    let role = ctx.acting_role(caller, acting_role)?;
    ctx.require_convenant_role(caller, &role)?;
    let m = melding(ctx, caller, id).await?;
    Ok(Stages {
        history: ctx
            .store
            .melding_stages(caller.oin().as_str(), &m.id)
            .await?,
        melding: m.id,
    })
}

/// Meldingen per page of `ListMeldingen` when the request names no size.
pub const DEFAULT_MELDINGEN_PAGE: u32 = 50;
/// The most meldingen one page of `ListMeldingen` holds.
pub const MAX_MELDINGEN_PAGE: u32 = 200;

/// `ListMeldingen`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct ListMeldingen {
    /// Only meldingen in this stage.
    pub stage: Option<MeldingStage>,
    /// 1..=[`MAX_MELDINGEN_PAGE`].
    pub page_size: u32,
    /// Where the previous page ended.
    pub after: Option<MeldingPageKey>,
    /// The role the caller acts in.
    pub acting_role: Option<Role>,
}

/// One melding of the overview with the decision in force on its latest triage.
#[derive(Debug, Clone)]
pub struct ListedMelding {
    /// Where it stands.
    pub listing: MeldingListing,
    /// The decision in force on its latest triage: the triagist's, else the advice's (`None`:
    /// not triaged).
    pub decision: Option<DecisionKind>,
}

/// One page of Veilig Thuis's overview.
#[derive(Debug, Clone)]
pub struct MeldingenPage {
    /// The meldingen, due reviews first (see [`crate::store::Store::meldingen_of`]).
    pub meldingen: Vec<ListedMelding>,
    /// Where the next page starts (`None`: this was the last).
    pub next: Option<MeldingPageKey>,
    /// The moment the page was read (unix seconds): a review at or before it is due.
    pub now: i64,
}

/// `ListMeldingen`: Veilig Thuis's overview of the meldingen delivered to it, by stage and
/// review moment. The same rule as [`stages`]: a role the convenant gives the caller's sector
/// (its privacy officer: `PERMISSION_DENIED`); the list holds only the meldingen delivered to
/// the caller's own organisation, so any other organisation gets an empty list. Not logged,
/// like [`stages`] and `ListHandovers`: it names no persons and hands out nothing Veilig Thuis
/// did not receive or record itself.
pub async fn list_meldingen(
    ctx: &Ctx,
    caller: &Caller,
    cmd: ListMeldingen,
) -> FlowResult<MeldingenPage> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let size = cmd.page_size.clamp(1, MAX_MELDINGEN_PAGE);
    let mut meldingen = ctx
        .store
        .meldingen_of(
            caller.oin().as_str(),
            cmd.stage,
            cmd.after.as_ref(),
            size + 1,
        )
        .await?;
    let next = if meldingen.len() > size as usize {
        meldingen.truncate(size as usize);
        meldingen.last().map(|m| m.key.clone())
    } else {
        None
    };
    let meldingen = meldingen
        .into_iter()
        .map(|listing| ListedMelding {
            decision: listing.triage.as_ref().map(|t| {
                listing
                    .decision
                    .unwrap_or_else(|| DecisionKind::following(super::triage::advice_of(t).kind))
            }),
            listing,
        })
        .collect();
    Ok(MeldingenPage {
        meldingen,
        next,
        now: now(),
    })
}
