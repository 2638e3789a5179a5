//! *Register*: the GI's own maatregel register (issue 18). A professional of a gecertificeerde
//! instelling looks up the maatregelen its organisation registered or runs for a child
//! (`ListMaatregelen`: the hub lists them per child, without the BSN), registers one
//! (`RegisterMaatregel`: kind, start, ordered end, contact point) and ends one
//! (`EndMaatregel`, after a confirmation step, with who has the case next; the answer says which
//! involved organisations were told). Who may is the hub's rule (the jeugdbescherming sector, in
//! a role the convenant gives it); the menu and this screen mirror it with the convenant's roles
//! of that sector, and the hub decides every act. The BSN travels in POST bodies only, never in
//! an address or a log line; the audit log names the maatregel id.
use super::disclosure::{Outcome, directory_for_page, role_select_as};
use super::i18n::{Lang, date};
use super::layout::page;
use super::problem::Problem;
use super::signal::FormData;
use super::{Authed, bsn_field, csrf_refused, problem_page, refused_unless};
use crate::actions;
use crate::app::App;
use crate::session::Professional;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use signaalhub_client::ClientError;
use signaalhub_client::signaalhub_proto::pb;
use std::collections::HashMap;
use std::sync::Arc;

/// The kinds a GI registers: (form value, Dutch, English).
const KINDS: &[(&str, &str, &str, pb::MaatregelKind)] = &[
    (
        "ots",
        "Ondertoezichtstelling (OTS)",
        "Supervision order (OTS)",
        pb::MaatregelKind::Ots,
    ),
    (
        "voogdij",
        "Voogdij",
        "Guardianship",
        pb::MaatregelKind::Voogdij,
    ),
    (
        "machtiging_uithuisplaatsing",
        "Machtiging uithuisplaatsing",
        "Out-of-home placement order",
        pb::MaatregelKind::MachtigingUithuisplaatsing,
    ),
    (
        "jeugdreclassering",
        "Jeugdreclassering",
        "Juvenile probation",
        pb::MaatregelKind::Jeugdreclassering,
    ),
];

fn kind_text(lang: Lang, k: i32) -> &'static str {
    KINDS
        .iter()
        .find(|x| x.3 as i32 == k)
        .map(|x| lang.t(x.1, x.2))
        .unwrap_or_else(|| lang.t("maatregel", "measure"))
}

fn title(lang: Lang) -> &'static str {
    lang.t("Maatregelregister", "Measure register")
}

/// The professional's roles that the convenant gives the jeugdbescherming sector (to act in).
fn gi_roles(app: &App, p: &Professional) -> Vec<String> {
    actions::roles_of(app, p, pb::Sector::Jeugdbescherming)
}

/// Whether the menu shows the register: the hub lets only the jeugdbescherming sector register,
/// end and list maatregelen, in a role the convenant gives that sector.
pub fn may_use(app: &App, p: &Professional) -> bool {
    !gi_roles(app, p).is_empty()
}

/// The refusal for anyone without such a role (a wijkcoach, the GI's FG).
fn refused(app: &App, a: &Authed) -> Option<Response> {
    let lang = a.lang();
    let why = lang.t(
        "Het maatregelregister is voor medewerkers van een gecertificeerde instelling (jeugdbescherming) in een rol van het convenant.",
        "The measure register is for staff of a certified institution (youth protection) in a convenant role.",
    );
    refused_unless(
        app,
        a,
        may_use(app, &a.session.professional),
        title(lang),
        why,
    )
}

/// What the register form shows again after a post.
#[derive(Debug, Default)]
struct Typed {
    bsn: String,
    kind: String,
    starts: String,
    ends: String,
    contact: String,
    responsible: String,
    role: String,
}

impl Typed {
    fn from_data(f: &FormData) -> Typed {
        Typed {
            bsn: f.get("bsn").to_owned(),
            kind: f.get("kind").to_owned(),
            starts: f.get("starts").to_owned(),
            ends: f.get("ends").to_owned(),
            contact: f.get("contact").to_owned(),
            responsible: f.get("responsible").to_owned(),
            role: f.get("role").to_owned(),
        }
    }
}

/// The organisations of the sociale kaart (names; the next holder of a case; other GIs that may
/// be responsible), or the problem of asking for them.
struct Directory {
    orgs: Vec<pb::Organization>,
    problem: Option<Problem>,
}

impl Directory {
    async fn load(app: &App, a: &Authed) -> Directory {
        let mut outcome = Outcome::default();
        let orgs = directory_for_page(app, a, None, &mut outcome).await;
        Directory {
            orgs,
            problem: outcome.problem,
        }
    }

    fn names(&self) -> HashMap<&str, &str> {
        self.orgs
            .iter()
            .map(|o| (o.oin.as_str(), o.name.as_str()))
            .collect()
    }

    /// An organisation by name, with its OIN small (the own one by the gateway's name).
    fn org(&self, app: &App, lang: Lang, oin: &str) -> Markup {
        let names = self.names();
        html! {
            @if oin == app.oin() {
                (app.config.organisation.name) " " small { (lang.t("(wij)", "(us)")) }
            } @else {
                @match names.get(oin) {
                    Some(name) => { (name) " " small { "(" (oin) ")" } }
                    None => { (oin) }
                }
            }
        }
    }
}

fn state(lang: Lang, m: &pb::Maatregel, now: i64) -> Markup {
    let at = |t: &Option<prost_types::Timestamp>| t.as_ref().map(|t| t.seconds);
    html! {
        @if let Some(ended) = at(&m.ended_at) {
            strong { (lang.t("Beëindigd", "Ended")) } " " (date(lang, ended))
        } @else if at(&m.ends_at).is_some_and(|e| e <= now) {
            (lang.t("Afgelopen (einddatum voorbij)", "Expired (end date passed)"))
        } @else if at(&m.starts_at).is_some_and(|s| s > now) {
            (lang.t("Gaat nog in", "Not started yet"))
        } @else {
            strong { (lang.t("Loopt", "Running")) }
        }
    }
}

/// The maatregelen of one child as the hub listed them, each with *Beëindigen…* while it runs.
fn list_section(
    app: &App,
    a: &Authed,
    lang: Lang,
    dir: &Directory,
    bsn: &str,
    list: &[pb::Maatregel],
) -> Markup {
    let now = crate::store::now_unix();
    html! {
        section aria-labelledby="lijst" {
            h2 id="lijst" { (lang.t("Maatregelen van dit kind", "This child's measures")) }
            @if list.is_empty() {
                p { (lang.t(
                    "Geen maatregel van uw organisatie voor dit kind.",
                    "No measure of your organisation for this child.",
                )) }
            } @else {
                table {
                    caption.visually-hidden { (lang.t("Maatregelen die uw organisatie registreerde of uitvoert", "Measures your organisation registered or runs")) }
                    thead { tr {
                        th scope="col" { (lang.t("Soort", "Kind")) }
                        th scope="col" { (lang.t("Sinds", "Since")) }
                        th scope="col" { (lang.t("Tot", "Until")) }
                        th scope="col" { (lang.t("Contactpunt", "Contact point")) }
                        th scope="col" { (lang.t("Stand", "State")) }
                        th scope="col" { (lang.t("Actie", "Action")) }
                    } }
                    tbody {
                        @for m in list {
                            tr {
                                th scope="row" { (kind_text(lang, m.kind)) br; small { code { (m.maatregel_id) } } }
                                td { (m.starts_at.as_ref().map(|t| date(lang, t.seconds)).unwrap_or_default()) }
                                td { @match &m.ends_at {
                                    Some(t) => { (date(lang, t.seconds)) }
                                    None => { (lang.t("geen einddatum", "no end date")) }
                                } }
                                td {
                                    (m.contact_point)
                                    @if m.responsible_oin != app.oin() {
                                        br; small { (lang.t("uitgevoerd door ", "run by ")) (dir.org(app, lang, &m.responsible_oin)) }
                                    }
                                }
                                td {
                                    (state(lang, m, now))
                                    @if !m.next_oin.is_empty() {
                                        br; small { (lang.t("zaak nu bij ", "case now with ")) (dir.org(app, lang, &m.next_oin)) }
                                    }
                                }
                                td {
                                    @if m.ended_at.is_none() {
                                        form method="post" action="/register/beeindigen" {
                                            input type="hidden" name="csrf" value=(a.session.csrf);
                                            input type="hidden" name="maatregel_id" value=(m.maatregel_id);
                                            input type="hidden" name="bsn" value=(bsn);
                                            button type="submit" {
                                                (lang.t("Beëindigen…", "End…"))
                                                span.visually-hidden { " " (kind_text(lang, m.kind)) " " (m.maatregel_id) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Looking up a child's maatregelen.
fn lookup_form(a: &Authed, lang: Lang, bsn: &str, all: bool) -> Markup {
    html! {
        form method="post" action="/register" {
            input type="hidden" name="csrf" value=(a.session.csrf);
            fieldset {
                legend { (lang.t("Maatregelen van een kind opzoeken", "Look up a child's measures")) }
                p.hint { (lang.t(
                    "De hub toont de maatregelen die uw organisatie registreerde of uitvoert, per kind. Het BSN wordt niet getoond of bewaard.",
                    "The hub lists the measures your organisation registered or runs, per child. The BSN is neither shown nor kept.",
                )) }
                (super::subject_field(lang, "l-bsn", bsn))
                div.check {
                    input type="checkbox" id="l-all" name="all" value="on" checked[all];
                    label for="l-all" { (lang.t("Ook beëindigde en afgelopen maatregelen", "Include ended and expired measures")) }
                }
                div.actions { button.primary type="submit" name="action" value="list" { (lang.t("Opzoeken", "Look up")) } }
            }
        }
    }
}

/// Registering a maatregel.
fn register_form(
    app: &App,
    a: &Authed,
    lang: Lang,
    t: &Typed,
    dir: &Directory,
    roles: &[String],
) -> Markup {
    let other_gis: Vec<&pb::Organization> = dir
        .orgs
        .iter()
        .filter(|o| o.sector == pb::Sector::Jeugdbescherming as i32)
        .collect();
    html! {
        form method="post" action="/register" {
            input type="hidden" name="csrf" value=(a.session.csrf);
            fieldset {
                legend { (lang.t("Maatregel registreren", "Register a measure")) }
                p.hint { (lang.t(
                    "Een wijkteam dat bij het kind betrokken is, hoort op zijn vraag alleen de soort en wie het belt; uw organisatie hoort wie vroeg.",
                    "A wijkteam involved with the child learns, when it asks, only the kind and whom to call; your organisation is told who asked.",
                )) }
                (super::subject_field(lang, "n-bsn", &t.bsn))
                label for="n-kind" { (lang.t("Soort maatregel", "Kind of measure")) }
                select id="n-kind" name="kind" required {
                    option value="" { (lang.t("— kies —", "— choose —")) }
                    @for (code, nl, en, _) in KINDS {
                        option value=(code) selected[t.kind == *code] { (lang.t(nl, en)) }
                    }
                }
                label for="n-starts" { (lang.t("Ingangsdatum (leeg: vandaag)", "Start date (empty: today)")) }
                input type="date" id="n-starts" name="starts" value=(t.starts);
                label for="n-ends" { (lang.t("Einddatum volgens de rechter (als die er is)", "End date as ordered by the court (if any)")) }
                input type="date" id="n-ends" name="ends" value=(t.ends);
                label for="n-contact" { (lang.t("Contactpunt (wie andere organisaties bellen)", "Contact point (whom other organisations call)")) }
                input id="n-contact" name="contact" value=(t.contact) maxlength="200" required aria-describedby="n-contact-hint" placeholder="Team Jeugdbescherming Arnhem, 026-1234567";
                p.hint id="n-contact-hint" { (lang.t(
                    "Een team of servicepunt met telefoonnummer; geen gegevens van het kind.",
                    "A team or service point with a phone number; nothing about the child.",
                )) }
                @if !other_gis.is_empty() {
                    label for="n-responsible" { (lang.t("Uitgevoerd door", "Run by")) }
                    select id="n-responsible" name="responsible" {
                        option value="" { (app.config.organisation.name) " " (lang.t("(wij)", "(us)")) }
                        @for o in &other_gis {
                            option value=(o.oin) selected[t.responsible == o.oin] { (o.name) }
                        }
                    }
                }
                (role_select_as(lang, roles, &t.role, "n-role"))
                div.actions { button.primary type="submit" name="action" value="register" { (lang.t("Registreren", "Register")) } }
            }
        }
    }
}

/// The screen: what happened (a notice or a problem), the list when a child was looked up, and
/// both forms.
#[allow(clippy::too_many_arguments)]
fn screen(
    app: &App,
    a: &Authed,
    dir: &Directory,
    top: Option<Markup>,
    listed: Option<(&str, &[pb::Maatregel])>,
    typed: &Typed,
    lookup_bsn: &str,
    all: bool,
) -> Markup {
    let lang = a.lang();
    let roles = gi_roles(app, &a.session.professional);
    let body = html! {
        @if let Some(p) = &dir.problem { (p.render()) }
        @if let Some(t) = top { (t) }
        @if let Some((bsn, list)) = listed { (list_section(app, a, lang, dir, bsn, list)) }
        (lookup_form(a, lang, lookup_bsn, all))
        (register_form(app, a, lang, typed, dir, &roles))
    };
    page(app, a, title(lang), body)
}

/// `GET /register`.
pub async fn home(State(app): State<Arc<App>>, a: Authed) -> Response {
    if let Some(r) = refused(&app, &a) {
        return r;
    }
    let dir = Directory::load(&app, &a).await;
    screen(&app, &a, &dir, None, None, &Typed::default(), "", true).into_response()
}

/// What is missing or malformed in the register form, before the hub is asked.
fn register_problems(lang: Lang, f: &FormData) -> Vec<String> {
    let mut out = Vec::new();
    if let Err(p) = bsn_field(lang, f.get("bsn")) {
        out.push(p);
    }
    if !KINDS.iter().any(|k| k.0 == f.get("kind")) {
        out.push(
            lang.t(
                "Soort maatregel: kies OTS, voogdij, machtiging uithuisplaatsing of jeugdreclassering.",
                "Kind of measure: choose OTS, guardianship, out-of-home placement or juvenile probation.",
            )
            .to_owned(),
        );
    }
    for (name, nl, en) in [
        (
            "starts",
            "Ingangsdatum: een datum als 2026-12-06, of leeg voor vandaag.",
            "Start date: a date such as 2026-12-06, or empty for today.",
        ),
        (
            "ends",
            "Einddatum: een datum als 2027-12-06, of leeg als de rechter er geen gaf.",
            "End date: a date such as 2027-12-06, or empty when the court gave none.",
        ),
    ] {
        let v = f.get(name);
        if !v.is_empty() && crate::information::review_date(v).is_none() {
            out.push(lang.t(nl, en).to_owned());
        }
    }
    if f.get("contact").is_empty() {
        out.push(
            lang.t(
                "Contactpunt: vul in wie andere organisaties bij u bereiken.",
                "Contact point: fill in whom other organisations reach at your organisation.",
            )
            .to_owned(),
        );
    }
    out
}

fn timestamp(typed: &str) -> Option<prost_types::Timestamp> {
    crate::information::review_date(typed)
        .map(|seconds| prost_types::Timestamp { seconds, nanos: 0 })
}

/// `POST /register`: look up a child's maatregelen, or register one.
pub async fn submit(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    if let Some(r) = refused(&app, &a) {
        return r;
    }
    let p = &a.session.professional;
    let role = super::triage::chosen_role(&gi_roles(&app, p), f.get("role"));
    let dir = Directory::load(&app, &a).await;
    if f.get("action") == "register" {
        let typed = Typed::from_data(&f);
        let missing = register_problems(lang, &f);
        if !missing.is_empty() {
            let problem = Problem {
                title: lang
                    .t(
                        "De maatregel is niet geregistreerd; vul aan:",
                        "The measure was not registered; please complete:",
                    )
                    .into(),
                items: missing,
            };
            let page = screen(
                &app,
                &a,
                &dir,
                Some(problem.render()),
                None,
                &typed,
                "",
                true,
            );
            return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
        }
        // Checked above: a BSN or reference as the hub takes it, a kind from the list.
        let bsn = bsn_field(lang, f.get("bsn")).unwrap_or_default();
        let kind = KINDS
            .iter()
            .find(|k| k.0 == f.get("kind"))
            .map_or(pb::MaatregelKind::Unspecified, |k| k.3);
        let registered = actions::register_maatregel(
            &app,
            p,
            pb::RegisterMaatregelRequest {
                subject_bsn: bsn.clone(),
                kind: kind as i32,
                starts_at: timestamp(f.get("starts")),
                ends_at: timestamp(f.get("ends")),
                responsible_oin: f.get("responsible").to_owned(),
                contact_point: f.get("contact").to_owned(),
                acting_role: role.clone(),
            },
        )
        .await;
        return match registered {
            Ok(m) => {
                let notice = html! {
                    p.notice role="status" {
                        (lang.t("Geregistreerd: ", "Registered: ")) (kind_text(lang, m.kind))
                        " (" code { (m.maatregel_id) } ")."
                    }
                };
                let list = actions::list_maatregelen(&app, p, &role, &bsn, true).await;
                listed_page(&app, &a, &dir, notice, &bsn, list)
            }
            Err(e) => screen(
                &app,
                &a,
                &dir,
                Some(Problem::from_client(lang, &e).render()),
                None,
                &typed,
                "",
                true,
            )
            .into_response(),
        };
    }
    // Look up.
    let all = f.get("all") == "on";
    let bsn = match bsn_field(lang, f.get("bsn")) {
        Ok(b) => b,
        Err(problem) => {
            let page = screen(
                &app,
                &a,
                &dir,
                Some(Problem::new(problem).render()),
                None,
                &Typed::default(),
                f.get("bsn"),
                all,
            );
            return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
        }
    };
    match actions::list_maatregelen(&app, p, &role, &bsn, all).await {
        Ok(list) => screen(
            &app,
            &a,
            &dir,
            None,
            Some((&bsn, &list)),
            &Typed::default(),
            &bsn,
            all,
        )
        .into_response(),
        Err(e) => screen(
            &app,
            &a,
            &dir,
            Some(Problem::from_client(lang, &e).render()),
            None,
            &Typed::default(),
            &bsn,
            all,
        )
        .into_response(),
    }
}

/// The screen after an act: its notice, then the child's maatregelen (or why they could not be
/// listed).
fn listed_page(
    app: &App,
    a: &Authed,
    dir: &Directory,
    notice: Markup,
    bsn: &str,
    list: Result<Vec<pb::Maatregel>, ClientError>,
) -> Response {
    let lang = a.lang();
    match list {
        Ok(list) => screen(
            app,
            a,
            dir,
            Some(notice),
            Some((bsn, &list)),
            &Typed::default(),
            bsn,
            true,
        ),
        Err(e) => screen(
            app,
            a,
            dir,
            Some(html! { (notice) (Problem::from_client(lang, &e).render()) }),
            None,
            &Typed::default(),
            bsn,
            true,
        ),
    }
    .into_response()
}

/// `POST /register/beeindigen`: first the confirmation (what ends, who has the case next), then,
/// with `confirm=ja`, `EndMaatregel` and its outcome: which involved organisations were told.
pub async fn end(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    if let Some(r) = refused(&app, &a) {
        return r;
    }
    let p = &a.session.professional;
    let role = super::triage::chosen_role(&gi_roles(&app, p), f.get("role"));
    let id = f.get("maatregel_id").to_owned();
    if !actions::valid_record_id(&id) {
        return problem_page(
            &app,
            &a,
            StatusCode::NOT_FOUND,
            title(lang),
            lang.t("Onbekende maatregel.", "Unknown measure."),
        );
    }
    // The child, typed on the page before; only to show the maatregel and list again after.
    let bsn = bsn_field(lang, f.get("bsn")).ok();
    let dir = Directory::load(&app, &a).await;
    let next = f.get("next").to_owned();
    if !next.is_empty() && !signaalhub_client::sealed::is_oin(&next) {
        let p = Problem::new(lang.t(
            "Wie heeft de zaak hierna: kies een organisatie uit de lijst.",
            "Who has the case next: choose an organisation from the list.",
        ));
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            confirm_page(&app, &a, &dir, &id, bsn.as_deref(), None, Some(p)),
        )
            .into_response();
    }
    if f.get("confirm") != "ja" {
        let shown = match &bsn {
            Some(b) => actions::list_maatregelen(&app, p, &role, b, true)
                .await
                .ok()
                .and_then(|l| l.into_iter().find(|m| m.maatregel_id == id)),
            None => None,
        };
        return confirm_page(&app, &a, &dir, &id, bsn.as_deref(), shown.as_ref(), None)
            .into_response();
    }
    let ended = actions::end_maatregel(&app, p, &role, &id, &next).await;
    match ended {
        Ok(r) => {
            let told = r.parties.iter().filter(|x| x.told).count();
            let notice = html! {
                div.notice role="status" {
                    p { strong { (lang.t("De maatregel is beëindigd", "The measure has ended")) }
                        @if let Some(t) = r.maatregel.as_ref().and_then(|m| m.ended_at.as_ref()) {
                            (lang.t(" per ", " as of ")) (date(lang, t.seconds))
                        }
                        "." }
                    @if !next.is_empty() {
                        p { (lang.t("De zaak ligt nu bij ", "The case is now with ")) (dir.org(&app, lang, &next)) "." }
                    }
                    @if r.parties.is_empty() {
                        p { (lang.t(
                            "Geen andere organisatie is bij dit kind betrokken: niemand hoefde het te horen.",
                            "No other organisation is involved with this child: nobody needed to be told.",
                        )) }
                    } @else {
                        p { (told) (lang.t(" van de ", " of the ")) (r.parties.len())
                            (lang.t(" betrokken organisaties zijn verteld dat de maatregel is beëindigd:", " involved organisations were told that the measure ended:")) }
                        ul {
                            @for x in &r.parties {
                                li { (dir.org(&app, lang, &x.oin)) ": "
                                    @if x.told { (lang.t("verteld", "told")) }
                                    @else { (lang.t("niet verteld (het convenant staat het niet toe)", "not told (the convenant does not allow it)")) }
                                }
                            }
                        }
                    }
                }
            };
            match &bsn {
                Some(b) => {
                    let list = actions::list_maatregelen(&app, p, &role, b, true).await;
                    listed_page(&app, &a, &dir, notice, b, list)
                }
                None => screen(
                    &app,
                    &a,
                    &dir,
                    Some(notice),
                    None,
                    &Typed::default(),
                    "",
                    true,
                )
                .into_response(),
            }
        }
        Err(e) => confirm_page(
            &app,
            &a,
            &dir,
            &id,
            bsn.as_deref(),
            None,
            Some(Problem::from_client(lang, &e)),
        )
        .into_response(),
    }
}

/// The confirmation: the maatregel (as listed, when the child is known), who has the case next,
/// and *Ja, beëindigen*.
fn confirm_page(
    app: &App,
    a: &Authed,
    dir: &Directory,
    id: &str,
    bsn: Option<&str>,
    m: Option<&pb::Maatregel>,
    problem: Option<Problem>,
) -> Markup {
    let lang = a.lang();
    let roles = gi_roles(app, &a.session.professional);
    let body = html! {
        @if let Some(p) = &problem { (p.render()) }
        @if let Some(p) = &dir.problem { (p.render()) }
        dl {
            dt { (lang.t("Maatregel", "Measure")) } dd { code { (id) } }
            @if let Some(m) = m {
                dt { (lang.t("Soort", "Kind")) } dd { (kind_text(lang, m.kind)) }
                dt { (lang.t("Sinds", "Since")) } dd { (m.starts_at.as_ref().map(|t| date(lang, t.seconds)).unwrap_or_default()) }
                dt { (lang.t("Contactpunt", "Contact point")) } dd { (m.contact_point) }
            }
        }
        form method="post" action="/register/beeindigen" {
            input type="hidden" name="csrf" value=(a.session.csrf);
            input type="hidden" name="maatregel_id" value=(id);
            @if let Some(b) = bsn { input type="hidden" name="bsn" value=(b); }
            fieldset {
                legend { (lang.t("Beëindigen", "End")) }
                p.hint { (lang.t(
                    "Elke andere organisatie die bij het kind betrokken is, hoort dat de maatregel is beëindigd, per vandaag, wie het contact bij u was en bij wie de zaak nu ligt — voor zover het convenant dat toestaat. Daarna beantwoordt de maatregel geen vraag meer.",
                    "Every other organisation involved with the child is told that the measure ended, as of today, who the contact at your organisation was and who has the case now — as far as the convenant allows. After that the measure answers no question.",
                )) }
                label for="e-next" { (lang.t("Wie heeft de zaak hierna", "Who has the case next")) }
                select id="e-next" name="next" {
                    option value="" { (lang.t("— niet vastleggen —", "— do not record —")) }
                    @for o in &dir.orgs {
                        option value=(o.oin) { (o.name) " — " (o.sector_name) }
                    }
                }
                (role_select_as(lang, &roles, "", "e-role"))
                div.actions {
                    button.primary type="submit" name="confirm" value="ja" { (lang.t("Ja, beëindigen", "Yes, end it")) }
                    a href="/register" { (lang.t("Annuleren", "Cancel")) }
                }
            }
        }
    };
    page(
        app,
        a,
        lang.t("Maatregel beëindigen", "End a measure"),
        body,
    )
}
