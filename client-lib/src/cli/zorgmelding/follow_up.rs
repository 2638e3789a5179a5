//! `signaal triage stage|stages|meldingen|ask|requests|inform`: Veilig Thuis's follow-up of a
//! melding — its stages and review moments, the overview of all its meldingen, and its
//! information requests with their answers
//! (docs/VEILIG_THUIS.md, sections 6 and 7). Questions and answers are sealed and opened here;
//! the hub never can.
use super::super::format::{now_unix, ts, when};
use super::super::keys::{Identity, OpenerArgs, SignerArgs};
use super::super::output::{self, Out};
use super::{
    CliError, Sealing, open, random_hex, refused, resolve_oin, seal_for, short_name, vt_task_basis,
};
use serde_json::json;
use signaalhub_client::HubClient;
use signaalhub_client::zorgmelding::{melding_reference, melding_text};
use signaalhub_proto::pb;

/// The purpose of an information request and its answer.
const PURPOSE: &str = "informatieverzoek_veilig_thuis";

/// A stage of a melding at Veilig Thuis.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum StageArg {
    /// Veilig Thuis assesses the safety.
    Triage,
    /// Veilig Thuis investigates itself.
    Onderzoek,
    /// Handed over; Veilig Thuis follows the handover.
    Overdracht,
    /// Veilig Thuis follows whether safety lasts (needs --review).
    Monitoring,
    /// Closed (final).
    Afgesloten,
}

/// Why an organisation declines an information request.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DeclineArg {
    /// No information about the persons asked about.
    NoInformation,
    /// The duty of confidentiality weighs heavier here.
    ProfessionalSecrecy,
    /// Not (or no longer) involved with the family.
    NotInvolved,
    /// Another reason, in your own file.
    OtherSeeFile,
}

impl StageArg {
    fn to_pb(self) -> pb::MeldingStage {
        match self {
            StageArg::Triage => pb::MeldingStage::Triage,
            StageArg::Onderzoek => pb::MeldingStage::Onderzoek,
            StageArg::Overdracht => pb::MeldingStage::Overdracht,
            StageArg::Monitoring => pb::MeldingStage::Monitoring,
            StageArg::Afgesloten => pb::MeldingStage::Afgesloten,
        }
    }
}

/// `signaal triage meldingen`.
#[derive(clap::Args, Debug)]
pub struct MeldingenArgs {
    /// Only meldingen in this stage.
    #[arg(long, value_enum)]
    stage: Option<StageArg>,
    /// At most this many (the hub's default: 50; at most 200).
    #[arg(long = "page-size", default_value_t = 0)]
    page_size: u32,
    /// The next page: the token printed under the previous one.
    #[arg(long = "page-token", default_value = "")]
    page_token: String,
    /// Role to act in, if the token has several.
    #[arg(long, default_value = "")]
    role: String,
}

/// `signaal triage stage`.
#[derive(clap::Args, Debug)]
pub struct StageArgs {
    /// The melding: a zorgmelding id (zm_…) or a signal as <sender OIN>/<signal id>.
    id: String,
    /// The stage.
    #[arg(value_enum)]
    stage: StageArg,
    /// The next review, in days from now (required for monitoring), e.g. 90.
    #[arg(long = "review-in-days")]
    review_in_days: Option<u32>,
    /// Role to act in, if the token has several.
    #[arg(long, default_value = "")]
    role: String,
}

/// `signaal triage ask`.
#[derive(clap::Args, Debug)]
pub struct AskArgs {
    /// The melding under assessment: a zorgmelding id (zm_…) or <sender OIN>/<signal id>.
    id: String,
    /// The organisation asked: an OIN or a sector name (huisarts, school, wijkteam, ...).
    #[arg(long)]
    to: String,
    /// What you ask for: convenant categories, comma-separated (the answer may carry only these).
    #[arg(long, value_delimiter = ',', required = true)]
    categories: Vec<String>,
    /// Veilig Thuis's case reference (the answer's basis names it).
    #[arg(long = "case")]
    case_reference: String,
    #[command(flatten)]
    informed: super::InformedArgs,
    /// The question, sealed here to the organisation asked.
    #[arg(long)]
    text: String,
    /// The request id; default `iv-` and 16 random hex characters.
    #[arg(long = "request-id")]
    request_id: Option<String>,
    /// Role to act in, if the token has several.
    #[arg(long, default_value = "")]
    role: String,
    #[command(flatten)]
    signer: SignerArgs,
}

/// `signaal triage inform`.
#[derive(clap::Args, Debug)]
pub struct InformArgs {
    /// The request id.
    request_id: String,
    /// The Veilig Thuis that asked: an OIN or `veilig_thuis`.
    #[arg(long, default_value = "veilig_thuis")]
    from: String,
    /// The answer, sealed here to Veilig Thuis.
    #[arg(long, conflicts_with = "decline")]
    text: Option<String>,
    /// What the answer carries (categories asked for, comma-separated).
    #[arg(long, value_delimiter = ',')]
    categories: Vec<String>,
    /// Veilig Thuis's case reference, as the request names it.
    #[arg(long = "case", default_value = "")]
    case_reference: String,
    /// Decline instead of answering, with this reason.
    #[arg(long, value_enum)]
    decline: Option<DeclineArg>,
    /// Role to act in, if the token has several.
    #[arg(long, default_value = "")]
    role: String,
    #[command(flatten)]
    signer: SignerArgs,
}

fn stage_name(s: i32) -> String {
    short_name(s, pb::MeldingStage::as_str_name, "MELDING_STAGE_")
}

fn state_name(s: i32) -> String {
    short_name(
        s,
        pb::InformationRequestState::as_str_name,
        "INFORMATION_REQUEST_STATE_",
    )
}

fn print_stages(s: &pb::MeldingStages, out: Out) {
    if out.json {
        out.emit(&json!({
            "current": stage_name(s.current),
            "current_nl": s.current_nl,
            "under_assessment": s.under_assessment,
            "history": s.history.iter().map(|h| json!({
                "seq": h.seq,
                "stage": stage_name(h.stage),
                "since": ts(h.since.as_ref()),
                "review_at": ts(h.review_at.as_ref()),
                "review_state": h.review_state,
                "role": h.role,
            })).collect::<Vec<_>>(),
        }));
        return;
    }
    println!(
        "stage now: {} ({}){}",
        stage_name(s.current),
        s.current_nl,
        if s.under_assessment {
            ", under assessment"
        } else {
            ""
        }
    );
    for h in &s.history {
        let review = match &h.review_at {
            Some(r) => format!("  review {} {}", when(Some(r)), h.review_state),
            None => String::new(),
        };
        println!(
            "  {}. {}  {}{review}",
            h.seq,
            when(h.since.as_ref()),
            stage_name(h.stage)
        );
    }
}

/// `signaal triage stage`.
pub(super) async fn stage(hub: &mut HubClient, a: StageArgs, out: Out) -> Result<(), CliError> {
    let (zorgmelding_id, signal) = melding_reference(&a.id);
    let r = hub
        .set_melding_stage(pb::SetMeldingStageRequest {
            zorgmelding_id,
            signal,
            stage: a.stage.to_pb() as i32,
            review_at: a.review_in_days.map(|d| prost_types::Timestamp {
                seconds: now_unix() + i64::from(d) * 86_400,
                nanos: 0,
            }),
            acting_role: a.role,
        })
        .await;
    match r {
        Ok(s) => {
            print_stages(&s, out);
            Ok(())
        }
        Err(e) => refused(&format!("the stage of {}", a.id), e, out),
    }
}

/// `signaal triage stages`.
pub(super) async fn stages(
    hub: &mut HubClient,
    id: &str,
    role: &str,
    out: Out,
) -> Result<(), CliError> {
    let s = hub.get_melding_stages_as(id, role).await?;
    print_stages(&s, out);
    Ok(())
}

/// `signaal triage meldingen`: one page of the overview, as a table or JSON.
pub(super) async fn meldingen(
    hub: &mut HubClient,
    a: MeldingenArgs,
    out: Out,
) -> Result<(), CliError> {
    let r = hub
        .list_meldingen(pb::ListMeldingenRequest {
            stage: a.stage.map_or(0, |s| s.to_pb() as i32),
            page_size: a.page_size,
            page_token: a.page_token,
            acting_role: a.role,
        })
        .await?;
    let decision = |m: &pb::ListedMelding| {
        if m.triaged {
            short_name(
                m.decision,
                pb::TriageDecisionKind::as_str_name,
                "TRIAGE_DECISION_KIND_",
            )
        } else {
            String::new()
        }
    };
    if out.json {
        out.emit(&json!({
            "meldingen": r.meldingen.iter().map(|m| json!({
                "melding": melding_text(&m.zorgmelding_id, m.signal.as_ref()),
                "kind": short_name(m.kind, pb::MeldingKind::as_str_name, "MELDING_KIND_"),
                "received_at": ts(m.received_at.as_ref()),
                "stage": stage_name(m.stage),
                "stage_nl": m.stage_nl,
                "under_assessment": m.under_assessment,
                "stage_since": ts(m.stage_since.as_ref()),
                "review_at": ts(m.review_at.as_ref()),
                "review_state": m.review_state,
                "review_due": m.review_due,
                "triaged": m.triaged,
                "decision": decision(m),
                "decision_recorded": m.decision_recorded,
            })).collect::<Vec<_>>(),
            "next_page_token": r.next_page_token,
        }));
        return Ok(());
    }
    if r.meldingen.is_empty() {
        println!("no meldingen");
    }
    for m in &r.meldingen {
        let review = match &m.review_at {
            Some(at) if m.review_due => format!("  review {} DUE", when(Some(at))),
            Some(at) => format!("  review {}", when(Some(at))),
            None => String::new(),
        };
        let triage = match decision(m) {
            d if d.is_empty() => "  not triaged".to_owned(),
            d if m.decision_recorded => format!("  decision {d}"),
            d => format!("  advice {d}"),
        };
        println!(
            "{}  {}  received {}  {}{}{review}{triage}",
            melding_text(&m.zorgmelding_id, m.signal.as_ref()),
            short_name(m.kind, pb::MeldingKind::as_str_name, "MELDING_KIND_"),
            when(m.received_at.as_ref()),
            stage_name(m.stage),
            if m.under_assessment {
                " (under assessment)"
            } else {
                ""
            },
        );
    }
    if !r.next_page_token.is_empty() {
        println!("more: --page-token {}", r.next_page_token);
    }
    Ok(())
}

/// `signaal triage ask`: the question is sealed here to the organisation asked.
pub(super) async fn ask(
    hub: &mut HubClient,
    me: &Identity,
    a: AskArgs,
    out: Out,
) -> Result<(), CliError> {
    let (zorgmelding_id, signal) = melding_reference(&a.id);
    let request_id = match a.request_id.clone() {
        Some(id) => id,
        None => format!("iv-{}", random_hex()?),
    };
    let to = resolve_oin(hub, &a.to).await?;
    let basis = vt_task_basis(&a.case_reference, &a.informed);
    let sealing = Sealing {
        to: &to,
        id: &request_id,
        purpose: PURPOSE,
        categories: vec!["informatievraag".into()],
        basis: &basis,
    };
    let question = seal_for(hub, me, &a.signer, sealing, &a.text).await?;
    let r = hub
        .request_information(pb::RequestInformationRequest {
            request_id: request_id.clone(),
            zorgmelding_id,
            signal,
            recipient_oin: to.clone(),
            question: Some(question),
            categories: a.categories.clone(),
            basis: Some(basis),
            acting_role: a.role,
        })
        .await;
    let r = match r {
        Ok(r) => r,
        Err(e) => return refused(&format!("information request {request_id}"), e, out),
    };
    if out.json {
        out.emit(&json!({
            "request_id": request_id,
            "recipient_oin": to,
            "duplicate": r.duplicate,
            "decision": r.decision.as_ref().map(output::decision),
        }));
        return Ok(());
    }
    println!(
        "information request {request_id} to {to}: asked{}",
        if r.duplicate { " (a retry)" } else { "" }
    );
    Ok(())
}

/// `signaal triage requests`: the requests sent (`--sent`, Veilig Thuis: answers opened here) or
/// received (questions opened here).
pub(super) async fn requests(
    hub: &mut HubClient,
    me: &Identity,
    sent: bool,
    role: &str,
    opener: OpenerArgs,
    out: Out,
) -> Result<(), CliError> {
    let all = hub.list_information_requests_as(sent, role).await?;
    let my_oin = me.oin(hub).await?;
    let secrets = me.recipient_secrets(&my_oin, &opener)?;
    let mut items = Vec::new();
    for q in &all {
        let sealed = if sent { &q.answer } else { &q.question };
        let text = match sealed {
            Some(env) => Some(
                open(hub, &secrets, env)
                    .await
                    .map(|p| String::from_utf8_lossy(&p).into_owned()),
            ),
            None => None,
        };
        if out.human() {
            let melding = match &q.signal {
                Some(s) => format!("  melding {}/{}", s.sender_oin, s.signal_id),
                None if !q.zorgmelding_id.is_empty() => format!("  melding {}", q.zorgmelding_id),
                None => String::new(),
            };
            println!(
                "{}  {}  {} -> {}  {}  [{}]  case {}{melding}",
                when(q.requested_at.as_ref()),
                q.request_id,
                q.veilig_thuis_oin,
                q.recipient_oin,
                state_name(q.state),
                q.categories.join(","),
                q.case_reference
            );
            if !q.decline_reason_nl.is_empty() {
                println!("    declined: {}", q.decline_reason_nl);
            }
            match &text {
                Some(Ok(t)) => println!("    {}: {t}", if sent { "answer" } else { "question" }),
                Some(Err(why)) => println!("    (it does not open: {why})"),
                None => {}
            }
        }
        items.push(json!({
            "request_id": q.request_id,
            "veilig_thuis_oin": q.veilig_thuis_oin,
            "recipient_oin": q.recipient_oin,
            "state": state_name(q.state),
            "categories": q.categories,
            "case_reference": q.case_reference,
            "requested_at": ts(q.requested_at.as_ref()),
            "answer_categories": q.answer_categories,
            "decline_reason_nl": q.decline_reason_nl,
            if sent { "answer" } else { "question" }: text.and_then(Result::ok),
        }));
    }
    if out.human() && all.is_empty() {
        println!("no information requests");
    }
    out.emit(&json!({ "requests": items }));
    Ok(())
}

/// `signaal triage inform`: the answer is sealed here to Veilig Thuis (or the request declined).
pub(super) async fn inform(
    hub: &mut HubClient,
    me: &Identity,
    a: InformArgs,
    out: Out,
) -> Result<(), CliError> {
    let vt = resolve_oin(hub, &a.from).await?;
    let basis = pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "informatie_aan_veilig_thuis".into(),
            evidence: Some(pb::Evidence {
                case_reference: a.case_reference.clone(),
                ..Default::default()
            }),
        }),
        consent_ids: Vec::new(),
    };
    let answer = match &a.text {
        Some(text) => {
            let sealing = Sealing {
                to: &vt,
                id: &a.request_id,
                purpose: PURPOSE,
                categories: a.categories.clone(),
                basis: &basis,
            };
            Some(seal_for(hub, me, &a.signer, sealing, text).await?)
        }
        None => None,
    };
    let decline_reason = a.decline.map(|d| match d {
        DeclineArg::NoInformation => pb::InformationDeclineReason::NoInformation,
        DeclineArg::ProfessionalSecrecy => pb::InformationDeclineReason::ProfessionalSecrecy,
        DeclineArg::NotInvolved => pb::InformationDeclineReason::NotInvolved,
        DeclineArg::OtherSeeFile => pb::InformationDeclineReason::OtherSeeFile,
    } as i32);
    let r = hub
        .answer_information(pb::AnswerInformationRequest {
            veilig_thuis_oin: vt,
            request_id: a.request_id.clone(),
            answer,
            categories: if a.text.is_some() {
                a.categories
            } else {
                Vec::new()
            },
            basis: a.text.is_some().then_some(basis),
            decline_reason: decline_reason.unwrap_or_default(),
            acting_role: a.role,
        })
        .await;
    let r = match r {
        Ok(r) => r,
        Err(e) => return refused(&format!("the answer to {}", a.request_id), e, out),
    };
    let q = r
        .request
        .ok_or_else(|| CliError::Failed("the hub sent no request".into()))?;
    if out.json {
        out.emit(&json!({
            "request_id": q.request_id,
            "state": state_name(q.state),
            "duplicate": r.duplicate,
            "decision": r.decision.as_ref().map(output::decision),
        }));
        return Ok(());
    }
    println!(
        "information request {}: {}{}",
        q.request_id,
        state_name(q.state).to_lowercase(),
        if r.duplicate { " (a retry)" } else { "" }
    );
    Ok(())
}
