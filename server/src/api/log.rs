//! `signaalhub.v1.DisclosureLogService`: disclosures, checkpoints, proofs and the subject access
//! report (AVG art. 15) with its letter for the family (Dutch or English).
use super::basis::required_bsn;
use super::{caller, timestamp};
use crate::domain::access::{professional_id, request_reference};
use crate::domain::letter::{Block, Language, Letter};
use crate::flows::log::{self as flow, MAX_PAGE, Reach, ReportPage, Scope, Shown};
use crate::flows::{Ctx, FlowError};
use crate::ledger::integrator::Ledger;
use signaalhub_proto::checkpoint::SignedCheckpoint;
use signaalhub_proto::merkle;
use signaalhub_proto::pb;
use signaalhub_proto::pb::disclosure_log_service_server::DisclosureLogService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub use crate::flows::log::FG_ROLE;

/// The DisclosureLogService.
#[derive(Debug, Clone)]
pub struct LogApi {
    ctx: Ctx,
    ledger: Arc<Ledger>,
}

impl LogApi {
    /// On shared state.
    pub fn new(ctx: Ctx, ledger: Arc<Ledger>) -> Self {
        LogApi { ctx, ledger }
    }
}

fn json_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn view(shown: &Shown) -> pb::LogEntryView {
    let st = &shown.stored;
    let mut v = pb::LogEntryView {
        index: st.idx,
        leaf_hash: merkle::leaf_hash(&st.bytes).to_vec(),
        withheld: shown.withheld.iter().map(|w| w.code().to_owned()).collect(),
        actor_professional: shown.professional.clone().unwrap_or_default(),
        ..Default::default()
    };
    if shown.withheld.is_empty() {
        v.entry = st.bytes.clone();
    }
    if let Some(p) = shown.entry.clone() {
        v.event = json_name(&p.event);
        v.at = Some(timestamp(p.at));
        v.actor_oin = p.actor_oin;
        v.actor_role = p.actor_role;
        v.recipient_oin = p.recipient_oin.unwrap_or_default();
        v.categories = p.categories;
        v.purpose = p.purpose.unwrap_or_default();
        v.basis = p.basis;
        v.outcome = json_name(&p.outcome);
        v.reasons = p.reasons;
        v.policy_version = p.policy_version.unwrap_or_default();
        v.reference = p.reference.unwrap_or_default();
    }
    v
}

fn checkpoint_pb(signed: &SignedCheckpoint, ledger: &Ledger) -> pb::GetCheckpointResponse {
    pb::GetCheckpointResponse {
        note: signed.to_note(),
        tree_size: signed.checkpoint.tree_size,
        root: signed.checkpoint.root.to_vec(),
        key_id: signed.key_id.clone(),
        public_key: ledger
            .keys
            .get(&signed.key_id)
            .map(|k| k.to_vec())
            .unwrap_or_default(),
        keys: checkpoint_keys(ledger),
    }
}

/// Every checkpoint key the hub knows, current first, then the others by key id.
fn checkpoint_keys(ledger: &Ledger) -> Vec<pb::CheckpointKey> {
    let current = ledger.current_key_id();
    let mut keys: Vec<pb::CheckpointKey> = ledger
        .keys
        .iter()
        .map(|(id, k)| pb::CheckpointKey {
            key_id: id.clone(),
            public_key: k.to_vec(),
            current: id == current,
        })
        .collect();
    keys.sort_by(|a, b| {
        b.current
            .cmp(&a.current)
            .then_with(|| a.key_id.cmp(&b.key_id))
    });
    keys
}

/// The reach of a read about a person: hub-wide with a valid request reference, or own.
fn reach(hub_wide: bool, reference: &str) -> Result<Reach, FlowError> {
    if !hub_wide {
        if !reference.is_empty() {
            return Err(FlowError::invalid(
                "request_reference",
                "only with hub_wide (an own-organisation read names no request)",
            ));
        }
        return Ok(Reach::Own);
    }
    let reference =
        request_reference(reference).map_err(|m| FlowError::invalid("request_reference", m))?;
    Ok(Reach::HubWide {
        reference: reference.to_owned(),
    })
}

impl TryFrom<pb::ListDisclosuresRequest> for Scope {
    type Error = FlowError;
    fn try_from(r: pb::ListDisclosuresRequest) -> Result<Self, FlowError> {
        if r.page_size > MAX_PAGE {
            return Err(FlowError::invalid(
                "page_size",
                format!("at most {MAX_PAGE}"),
            ));
        }
        let limit = if r.page_size == 0 { 100 } else { r.page_size };
        use pb::list_disclosures_request::Scope as S;
        if r.hub_wide && !matches!(r.scope, Some(S::SubjectBsn(_))) {
            return Err(FlowError::invalid(
                "hub_wide",
                "only with subject_bsn: a hub-wide read is about one person",
            ));
        }
        match r.scope {
            Some(S::SubjectBsn(b)) => Ok(Scope::Subject {
                bsn: required_bsn("subject_bsn", &b)?,
                reach: reach(r.hub_wide, &r.request_reference)?,
                after: r.after_index,
                limit,
            }),
            Some(S::OwnOrganization(true)) => Ok(Scope::OwnOrganization {
                after: r.after_index,
                limit,
            }),
            Some(S::Professional(id)) => {
                professional_id(&id).map_err(|m| FlowError::invalid("professional", m))?;
                Ok(Scope::Professional {
                    id,
                    after: r.after_index,
                    limit,
                })
            }
            _ => Err(FlowError::invalid(
                "scope",
                "set subject_bsn, own_organization or professional",
            )),
        }
    }
}

/// The page of a report asked: the first (no `tree_size`) or a later one against the first
/// page's checkpoint.
fn report_page(r: &pb::SubjectAccessReportRequest) -> Result<ReportPage, FlowError> {
    if r.page_size > MAX_PAGE {
        return Err(FlowError::invalid(
            "page_size",
            format!("at most {MAX_PAGE}"),
        ));
    }
    if r.tree_size == Some(0) {
        return Err(FlowError::invalid(
            "tree_size",
            "absent on the first page; later pages: the first page's checkpoint.tree_size",
        ));
    }
    if r.after_index.is_some() && r.tree_size.is_none() {
        return Err(FlowError::invalid(
            "tree_size",
            "required with after_index: the first page's checkpoint.tree_size, so that every \
             page proves against the same checkpoint",
        ));
    }
    let language =
        Language::from_request(&r.language).map_err(|m| FlowError::invalid("language", m))?;
    Ok(ReportPage {
        language,
        after: r.after_index,
        limit: if r.page_size == 0 {
            MAX_PAGE
        } else {
            r.page_size
        },
        tree_size: r.tree_size,
    })
}

fn block_pb(b: &Block) -> pb::LetterBlock {
    use pb::letter_block::Block as B;
    let block = match b {
        Block::Heading(t) => B::Heading(t.clone()),
        Block::Paragraph(t) => B::Paragraph(t.clone()),
        Block::List(items) => B::List(pb::LetterList {
            items: items.clone(),
        }),
        Block::Record { title, fields } => B::Record(pb::LetterRecord {
            title: title.clone(),
            fields: fields
                .iter()
                .map(|(label, values)| pb::LetterField {
                    label: label.clone(),
                    values: values.clone(),
                })
                .collect(),
        }),
        Block::Preformatted(t) => B::Preformatted(t.clone()),
    };
    pb::LetterBlock { block: Some(block) }
}

/// The letter's wire form: the same structure, block for block.
fn letter_pb(l: &Letter) -> pb::Letter {
    let (annex_title, annex) = match &l.annex {
        Some((title, blocks)) => (title.clone(), blocks.iter().map(block_pb).collect()),
        None => (String::new(), Vec::new()),
    };
    pb::Letter {
        language: l.language.code().into(),
        letterhead: l.letterhead.clone(),
        title: l.title.clone(),
        body: l.body.iter().map(block_pb).collect(),
        annex_title,
        annex,
        sender: l.sender.clone(),
        privacy_contact: l.privacy_contact.clone(),
    }
}

fn hashes(h: &[merkle::Hash]) -> Vec<Vec<u8>> {
    h.iter().map(|h| h.to_vec()).collect()
}

#[tonic::async_trait]
impl DisclosureLogService for LogApi {
    async fn list_disclosures(
        &self,
        request: Request<pb::ListDisclosuresRequest>,
    ) -> Result<Response<pb::ListDisclosuresResponse>, Status> {
        let c = caller(&request)?;
        // Only the privacy officer reads the log, whatever the request says.
        flow::require_fg(&c)?;
        let scope = Scope::try_from(request.into_inner())?;
        let entries = flow::list(&self.ctx, &c, scope).await?;
        Ok(Response::new(pb::ListDisclosuresResponse {
            entries: entries.iter().map(view).collect(),
        }))
    }

    async fn get_checkpoint(
        &self,
        request: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::GetCheckpointResponse>, Status> {
        caller(&request)?;
        let signed = flow::checkpoint(&self.ledger).await?;
        Ok(Response::new(checkpoint_pb(&signed, &self.ledger)))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::GetInclusionProofResponse>, Status> {
        caller(&request)?;
        let r = request.into_inner();
        let (leaf, proof) = flow::inclusion_proof(&self.ctx, r.index, r.tree_size).await?;
        Ok(Response::new(pb::GetInclusionProofResponse {
            leaf_hash: leaf.to_vec(),
            proof: hashes(&proof),
        }))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::GetConsistencyProofResponse>, Status> {
        caller(&request)?;
        let r = request.into_inner();
        let proof = flow::consistency_proof(&self.ctx, r.old_size, r.new_size).await?;
        Ok(Response::new(pb::GetConsistencyProofResponse {
            proof: hashes(&proof),
        }))
    }

    async fn subject_access_report(
        &self,
        request: Request<pb::SubjectAccessReportRequest>,
    ) -> Result<Response<pb::SubjectAccessReportResponse>, Status> {
        let c = caller(&request)?;
        flow::require_fg(&c)?;
        let r = request.get_ref();
        let subject = required_bsn("subject_bsn", &r.subject_bsn)?;
        let reach = reach(r.hub_wide, &r.request_reference)?;
        let page = report_page(r)?;
        let report =
            flow::access_report(&self.ctx, &self.ledger, &c, &subject, reach, page).await?;
        let json = serde_json::json!({
            "checkpoint": report.checkpoint.to_note(),
            "entries": report.entries.iter().map(|(shown, _)| serde_json::json!({
                "index": shown.stored.idx,
                "leaf_hash": hex::encode(merkle::leaf_hash(&shown.stored.bytes)),
                "entry": shown.entry,
                "withheld": shown.withheld.iter().map(|w| w.code()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        Ok(Response::new(pb::SubjectAccessReportResponse {
            entries: report
                .entries
                .iter()
                .map(|(shown, proof)| pb::ProvenEntry {
                    entry: Some(view(shown)),
                    inclusion_proof: hashes(proof),
                })
                .collect(),
            checkpoint: Some(checkpoint_pb(&report.checkpoint, &self.ledger)),
            json: serde_json::to_string_pretty(&json).unwrap_or_default(),
            html_letter: report
                .letter
                .as_ref()
                .map(crate::domain::letter::html)
                .unwrap_or_default(),
            letter: report.letter.as_ref().map(letter_pb),
            next_after_index: report.next_after,
        }))
    }
}
