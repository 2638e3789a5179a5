//! `signaalhub.v1.DisclosureLogService`: disclosures, checkpoints, proofs and the subject access
//! report (AVG art. 15) with its letter in Dutch.
use super::basis::{reject, truncate};
use super::status::{from_store, invalid};
use super::{caller, timestamp};
use crate::auth::Caller;
use crate::flows::Ctx;
use crate::ledger::integrator::Ledger;
use crate::ledger::{EntryOutcome, Event, LogEntry};
use crate::store::log::StoredEntry;
use signaalhub_proto::checkpoint::SignedCheckpoint;
use signaalhub_proto::merkle;
use signaalhub_proto::pb;
use signaalhub_proto::pb::disclosure_log_service_server::DisclosureLogService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The role of the privacy officer (functionaris gegevensbescherming) in tokens.
pub const FG_ROLE: &str = "fg";

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

fn require_fg(c: &Caller) -> Result<(), Status> {
    if c.has_role(FG_ROLE) {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "the disclosure log is read by the privacy officer: your token needs the role {FG_ROLE:?}"
        )))
    }
}

fn json_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn view(e: &StoredEntry) -> pb::LogEntryView {
    let parsed = e.entry.clone();
    let mut v = pb::LogEntryView {
        index: e.idx,
        entry: e.bytes.clone(),
        ..Default::default()
    };
    if let Some(p) = parsed {
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
    }
}

fn proof_err(e: merkle::TileError) -> Status {
    invalid(&[("index", e.to_string())])
}

fn esc(s: &str) -> String {
    signaalhub_policy::explain::escape_html(s)
}

fn date(t: i64) -> String {
    // Days since the epoch to a civil date (proleptic Gregorian), no time-zone database needed.
    let days = t.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{:02}-{:02}-{}", d, m, if m <= 2 { y + 1 } else { y })
}

/// Whether an entry put data about the family in an organisation's hands: every entry whose
/// outcome is `disclosed` (a signal, zorgmelding or handover delivered, a maatregel answer given
/// or its responsible organisation told, an involvement match told, the involved parties listed,
/// a safety plan shared or confirmed to the other parties, a coordinator proposal told, ...).
/// Entries that only record, refuse or hold back are not disclosures.
fn is_disclosure(e: &LogEntry) -> bool {
    e.outcome == EntryOutcome::Disclosed
}

/// The letter for the family: every disclosure in plain Dutch, and how to check completeness.
pub fn letter(ctx: &Ctx, entries: &[(LogEntry, u64)], checkpoint: &SignedCheckpoint) -> String {
    let dir = ctx.directory.snapshot();
    let name = |oin: &str| {
        oin.parse::<crate::ids::Oin>()
            .ok()
            .and_then(|o| dir.orgs.get(&o).map(|e| e.org.name.clone()))
            .unwrap_or_else(|| oin.to_owned())
    };
    let basis_nl = |b: &str| -> String {
        if let Some(id) = b.strip_prefix("consent:") {
            format!("toestemming ({id})")
        } else if let Some(l) = b.strip_prefix("legal:") {
            match l {
                "meldrecht" => "meldcode / meldrecht (Wet verplichte meldcode)".into(),
                "wpg_zorgmelding" => "zorgmelding politie (Wet politiegegevens)".into(),
                "vt_wettelijke_taak" => "wettelijke taak Veilig Thuis (Wmo 2015)".into(),
                "wgs_vroegsignalering" => {
                    "vroegsignalering schulden (Wet gemeentelijke schuldhulpverlening)".into()
                }
                "jeugdwet_informatie" => "informatie jeugdbescherming (Jeugdwet)".into(),
                "vitaal_belang" => "vitaal belang (acuut gevaar)".into(),
                other => other.into(),
            }
        } else {
            b.into()
        }
    };
    let mut rows = String::new();
    let mut n = 0;
    for (e, idx) in entries {
        if !is_disclosure(e) {
            continue;
        }
        n += 1;
        // Without a recipient the actor itself was told (an answer from a register of the hub).
        let (from, to) = match e.recipient_oin.as_deref() {
            Some(r) => (name(&e.actor_oin), name(r)),
            None => ("register in de signaalhub".to_owned(), name(&e.actor_oin)),
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&date(e.at)),
            esc(&from),
            esc(&to),
            esc(e.purpose.as_deref().unwrap_or("")),
            esc(&e.basis.iter().map(|b| basis_nl(b)).collect::<Vec<_>>().join(", ")),
            esc(&e.categories.join(", ")),
            idx
        ));
    }
    let others = entries.iter().filter(|(e, _)| !is_disclosure(e)).count();
    let body = if n == 0 {
        "<p>Er zijn geen gegevens over u of uw kind verstrekt via de signaalhub.</p>".to_string()
    } else {
        format!(
            "<table><thead><tr><th>Datum</th><th>Van</th><th>Aan</th><th>Doel</th><th>Grondslag</th><th>Soort gegevens</th><th>Nr. in logboek</th></tr></thead><tbody>\n{rows}</tbody></table>"
        )
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Overzicht van verstrekkingen</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #999;padding:.3em;text-align:left;vertical-align:top}}</style></head>
<body>
<h1>Overzicht: welke gegevens zijn gedeeld?</h1>
<p>U vroeg welke gegevens over u of uw kind zijn gedeeld via de signaalhub (inzageverzoek, artikel 15 AVG).
Hieronder staat elke keer dat gegevens aan een organisatie zijn gegeven: wanneer, door wie, aan wie, waarvoor
(het doel), op welke grond, en welke soort gegevens. De inhoud van de berichten zelf staat hier niet in:
die kan de signaalhub niet lezen.</p>
<p>Aantal verstrekkingen: <strong>{n}</strong>.</p>
{body}
<p>Daarnaast staan er {others} andere registraties in het logboek over u of uw kind (bijvoorbeeld het vastleggen
of intrekken van toestemming, of een bericht dat is tegengehouden).</p>
<h2>Is dit overzicht compleet?</h2>
<p>Elke regel staat in een beveiligd logboek dat niet ongemerkt kan worden veranderd. Het overzicht hoort bij
controlepunt <code>{size}</code> van het logboek, ondertekend door de signaalhub. Bij dit overzicht hoort een
bestand (JSON) met een bewijs per regel; iedereen kan daarmee nagaan dat de regels echt in het logboek staan.</p>
<pre>{note}</pre>
<p>Heeft u vragen, of klopt er iets niet? Neem contact op met de functionaris gegevensbescherming van de
organisatie die u dit overzicht gaf.</p>
</body></html>
"#,
        size = checkpoint.checkpoint.tree_size,
        note = esc(&checkpoint.to_note()),
    )
}

#[tonic::async_trait]
impl DisclosureLogService for LogApi {
    async fn list_disclosures(
        &self,
        request: Request<pb::ListDisclosuresRequest>,
    ) -> Result<Response<pb::ListDisclosuresResponse>, Status> {
        let c = caller(&request)?;
        require_fg(&c)?;
        let r = request.into_inner();
        if r.page_size > 1000 {
            return Err(invalid(&[("page_size", "at most 1000".into())]));
        }
        let limit = if r.page_size == 0 { 100 } else { r.page_size };
        use pb::list_disclosures_request::Scope;
        let entries = match r.scope {
            Some(Scope::SubjectBsn(b)) => {
                let mut bad = Vec::new();
                let s = self.ctx.subject("subject_bsn", &b, &mut bad);
                reject(bad)?;
                let Some(s) = s else {
                    return Err(Status::internal("validation inconsistency"));
                };
                let all = self
                    .ctx
                    .store
                    .log_entries_for_subject(s.all())
                    .await
                    .map_err(from_store)?;
                let mut e = self.ctx.entry(
                    &c,
                    FG_ROLE,
                    Event::SubjectAccessReport,
                    EntryOutcome::Recorded,
                );
                e.entry.subjects = vec![s.as_str().to_owned()];
                e.entry.reference = Some("list_disclosures".into());
                self.ctx
                    .store
                    .append_log(std::slice::from_ref(&e))
                    .await
                    .map_err(from_store)?;
                all
            }
            Some(Scope::OwnOrganization(true)) => self
                .ctx
                .store
                .log_entries_for_org(
                    c.oin().as_str(),
                    (r.after_index > 0).then_some(r.after_index),
                    limit,
                )
                .await
                .map_err(from_store)?,
            _ => {
                return Err(invalid(&[(
                    "scope",
                    "set subject_bsn or own_organization".into(),
                )]));
            }
        };
        Ok(Response::new(pb::ListDisclosuresResponse {
            entries: entries.iter().map(view).collect(),
        }))
    }

    async fn get_checkpoint(
        &self,
        request: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::GetCheckpointResponse>, Status> {
        caller(&request)?;
        let signed = self.latest().await?;
        Ok(Response::new(checkpoint_pb(&signed, &self.ledger)))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::GetInclusionProofResponse>, Status> {
        caller(&request)?;
        let r = request.into_inner();
        let integrated = self.ctx.store.log_integrated().await.map_err(from_store)?;
        if r.tree_size == 0 || r.tree_size > integrated || r.index >= r.tree_size {
            return Err(invalid(&[(
                "tree_size",
                format!("index < tree_size <= {integrated} (the newest checkpoint)"),
            )]));
        }
        let (leaf, proof) = self.inclusion(r.index, r.tree_size).await?;
        Ok(Response::new(pb::GetInclusionProofResponse {
            leaf_hash: leaf.to_vec(),
            proof: proof.iter().map(|h| h.to_vec()).collect(),
        }))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::GetConsistencyProofResponse>, Status> {
        caller(&request)?;
        let r = request.into_inner();
        let integrated = self.ctx.store.log_integrated().await.map_err(from_store)?;
        if r.old_size == 0 || r.old_size > r.new_size || r.new_size > integrated {
            return Err(invalid(&[(
                "new_size",
                format!("0 < old_size <= new_size <= {integrated} (the newest checkpoint)"),
            )]));
        }
        let ids = merkle::tiles_for_consistency_proof(r.old_size, r.new_size).map_err(proof_err)?;
        let tiles = self.ctx.store.read_tiles(&ids).await.map_err(from_store)?;
        let proof =
            merkle::consistency_proof(r.old_size, r.new_size, &tiles.0).map_err(proof_err)?;
        Ok(Response::new(pb::GetConsistencyProofResponse {
            proof: proof.iter().map(|h| h.to_vec()).collect(),
        }))
    }

    async fn subject_access_report(
        &self,
        request: Request<pb::SubjectAccessReportRequest>,
    ) -> Result<Response<pb::SubjectAccessReportResponse>, Status> {
        let c = caller(&request)?;
        require_fg(&c)?;
        let r = request.into_inner();
        let mut bad = Vec::new();
        let s = self.ctx.subject("subject_bsn", &r.subject_bsn, &mut bad);
        reject(bad)?;
        let Some(s) = s else {
            return Err(Status::internal("validation inconsistency"));
        };
        // The report itself is logged, then everything is integrated so that every entry —
        // including this one — is covered by the checkpoint the proofs refer to.
        let mut e = self.ctx.entry(
            &c,
            FG_ROLE,
            Event::SubjectAccessReport,
            EntryOutcome::Recorded,
        );
        e.entry.subjects = vec![s.as_str().to_owned()];
        self.ctx
            .store
            .append_log(std::slice::from_ref(&e))
            .await
            .map_err(from_store)?;
        self.ledger.integrate_all().await.map_err(|err| {
            tracing::error!(error = %err, "integration for a subject access report failed");
            Status::unavailable(
                "the disclosure log cannot be brought up to date; nothing was reported",
            )
        })?;
        let signed = self.latest().await?;
        let size = signed.checkpoint.tree_size;
        let stored = self
            .ctx
            .store
            .log_entries_for_subject(s.all())
            .await
            .map_err(from_store)?;
        let mut proven = Vec::new();
        let mut parsed = Vec::new();
        for st in stored.iter().filter(|st| st.idx < size) {
            let (_, proof) = self.inclusion(st.idx, size).await?;
            proven.push(pb::ProvenEntry {
                entry: Some(view(st)),
                inclusion_proof: proof.iter().map(|h| h.to_vec()).collect(),
            });
            if let Some(p) = &st.entry {
                parsed.push((p.clone(), st.idx));
            }
        }
        let html = letter(&self.ctx, &parsed, &signed);
        let json = serde_json::json!({
            "checkpoint": signed.to_note(),
            "entries": stored.iter().filter(|st| st.idx < size).map(|st| serde_json::json!({
                "index": st.idx,
                "entry": st.entry,
            })).collect::<Vec<_>>(),
        });
        Ok(Response::new(pb::SubjectAccessReportResponse {
            entries: proven,
            checkpoint: Some(checkpoint_pb(&signed, &self.ledger)),
            json: serde_json::to_string_pretty(&json).unwrap_or_default(),
            html_letter: html,
        }))
    }
}

impl LogApi {
    async fn latest(&self) -> Result<SignedCheckpoint, Status> {
        match self.ledger.latest().await {
            Ok(Some(s)) => Ok(s),
            Ok(None) => Err(Status::unavailable(
                "no checkpoint yet: the log is empty or not yet integrated; retry shortly",
            )),
            Err(e) => {
                tracing::error!(error = %e, "checkpoint unavailable");
                Err(Status::unavailable(
                    "the disclosure log cannot produce a verified checkpoint",
                ))
            }
        }
    }

    async fn inclusion(
        &self,
        index: u64,
        size: u64,
    ) -> Result<(merkle::Hash, Vec<merkle::Hash>), Status> {
        let ids = merkle::tiles_for_inclusion_proof(index, size).map_err(proof_err)?;
        let mut ids = ids;
        ids.push(merkle::TileId {
            level: 0,
            index: index >> 8,
        });
        let tiles = self.ctx.store.read_tiles(&ids).await.map_err(from_store)?;
        let proof = merkle::inclusion_proof(index, size, &tiles.0).map_err(proof_err)?;
        let leaf = tiles
            .0
            .get(merkle::TileId {
                level: 0,
                index: index >> 8,
            })
            .and_then(|t| t.get((index & 255) as usize).copied())
            .ok_or_else(|| {
                Status::unavailable(format!(
                    "log entry {} is not integrated",
                    truncate(&index.to_string())
                ))
            })?;
        Ok((leaf, proof))
    }
}
