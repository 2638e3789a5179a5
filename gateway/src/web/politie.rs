//! *Zorgmeldingen* (police): the feedback Veilig Thuis sent on a zorgmelding the police made.
//! The police's gateway keeps no copy of the zorgmeldingen its own system submits, so the
//! professional names one by the police's registration number; the hub answers only the police
//! organisation that made it (`GetZorgmelding`, without envelopes) and lists the feedback only to
//! its melder (`ListFeedback`). Each note is opened here after `feedback_opened` is written to the
//! audit log (`crate::feedback::read`), as on the status page of a school's signal.
use super::i18n::{Lang, when};
use super::layout::page;
use super::problem::Problem;
use super::signal::FormData;
use super::terugkoppeling::{feedback_list, read_for_melder};
use super::{Authed, csrf_refused, problem_page, refused_unless};
use crate::actions;
use crate::app::App;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use signaalhub_client::signaalhub_proto::pb;
use std::sync::Arc;

/// Whether the professional holds a role the convenant gives the police.
pub(super) fn is_police(app: &App, a: &Authed) -> bool {
    actions::holds_role_of(app, &a.session.professional, Some(pb::Sector::Politie))
}

fn title(lang: Lang) -> &'static str {
    lang.t(
        "Terugkoppeling op zorgmeldingen",
        "Feedback on zorgmeldingen",
    )
}

/// The refusal for anyone without a police role (e.g. the police's FG, or another sector).
fn not_police(app: &App, a: &Authed) -> Option<Response> {
    let lang = a.lang();
    let why = lang.t(
        "De terugkoppeling op zorgmeldingen is voor medewerkers van de politie in een rol van het convenant.",
        "Feedback on zorgmeldingen is for police staff in a convenant role.",
    );
    refused_unless(app, a, is_police(app, a), title(lang), why)
}

/// A registration number as the hub accepts it: 1-64 of A-Z a-z 0-9 and `._-/`.
fn valid_registration(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
}

/// The look-up form, filled with `typed`.
fn lookup_form(a: &Authed, typed: &str) -> Markup {
    let lang = a.lang();
    html! {
        form method="post" action="/zorgmeldingen" {
            input type="hidden" name="csrf" value=(a.session.csrf);
            label for="reg" { (lang.t("Registratienummer van het incident", "Registration number of the incident")) }
            input id="reg" name="registratienummer" value=(typed) maxlength="64" required aria-describedby="reg-hint";
            p.hint id="reg-hint" { (lang.t(
                "Het nummer in het eigen systeem van de politie waaronder de zorgmelding is verstuurd.",
                "The number in the police's own system under which the zorgmelding was sent.",
            )) }
            div.actions { button.primary type="submit" { (lang.t("Terugkoppeling bekijken", "View the feedback")) } }
        }
    }
}

/// The look-up page, with `notice` above the form.
fn lookup_page(
    app: &App,
    a: &Authed,
    status: StatusCode,
    notice: Option<Markup>,
    typed: &str,
) -> Response {
    let lang = a.lang();
    let body = html! {
        p { (lang.t(
            "Veilig Thuis vertelt de politie wat het met een zorgmelding doet. Zoek de zorgmelding op met het registratienummer; alleen uw organisatie krijgt haar terugkoppeling.",
            "Veilig Thuis tells the police what it does with a zorgmelding. Look the zorgmelding up by its registration number; only your organisation gets its feedback.",
        )) }
        @if let Some(n) = notice { (n) }
        (lookup_form(a, typed))
    };
    (status, page(app, a, title(lang), body)).into_response()
}

/// `GET /zorgmeldingen`: the look-up form (police only).
pub async fn home(State(app): State<Arc<App>>, a: Authed) -> Response {
    if let Some(refused) = not_police(&app, &a) {
        return refused;
    }
    lookup_page(&app, &a, StatusCode::OK, None, "")
}

/// `POST /zorgmeldingen`: the zorgmelding of a registration number (the number travels in the
/// form, not the address), then its page.
pub async fn lookup(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(a.lang());
    }
    if let Some(refused) = not_police(&app, &a) {
        return refused;
    }
    let lang = a.lang();
    let reg = f.get("registratienummer").trim();
    if !valid_registration(reg) {
        let p = Problem::new(lang.t(
            "Registratienummer: 1 tot 64 tekens, alleen letters, cijfers en . _ - /.",
            "Registration number: 1 to 64 characters, only letters, digits and . _ - /.",
        ));
        return lookup_page(
            &app,
            &a,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(p.render()),
            reg,
        );
    }
    let found = match app.hub_as(&a.session.professional) {
        Ok(mut hub) => hub.get_zorgmelding_by_registration(reg).await,
        Err(e) => Err(e),
    };
    match found {
        Ok(z) => Redirect::to(&format!("/zorgmeldingen/{}", z.zorgmelding_id)).into_response(),
        Err(e) if e.code() == tonic::Code::NotFound => {
            let p = Problem::new(lang.t(
                "Uw organisatie heeft geen zorgmelding met dit registratienummer verstuurd.",
                "Your organisation sent no zorgmelding with this registration number.",
            ));
            lookup_page(&app, &a, StatusCode::NOT_FOUND, Some(p.render()), reg)
        }
        Err(e) => lookup_page(
            &app,
            &a,
            StatusCode::OK,
            Some(Problem::from_client(lang, &e).render()),
            reg,
        ),
    }
}

/// `GET /zorgmeldingen/{id}`: one of the police's own zorgmeldingen and the feedback Veilig Thuis
/// sent on it, oldest first, each note opened here.
pub async fn view(State(app): State<Arc<App>>, a: Authed, Path(id): Path<String>) -> Response {
    if let Some(refused) = not_police(&app, &a) {
        return refused;
    }
    let lang = a.lang();
    let not_found = |app: &App, a: &Authed| {
        problem_page(
            app,
            a,
            StatusCode::NOT_FOUND,
            title(lang),
            lang.t(
                "Deze zorgmelding is er niet, of is niet van uw organisatie.",
                "This zorgmelding does not exist, or is not your organisation's.",
            ),
        )
    };
    if !actions::valid_record_id(&id) || !id.starts_with("zm_") {
        return not_found(&app, &a);
    }
    let mut hub = match app.hub_as(&a.session.professional) {
        Ok(hub) => hub,
        Err(e) => {
            return page(
                &app,
                &a,
                title(lang),
                Problem::from_client(lang, &e).render(),
            )
            .into_response();
        }
    };
    let z = hub.get_zorgmelding(&id).await;
    let z = match z {
        Ok(z) if z.police_oin == app.oin() => z,
        Ok(_) => return not_found(&app, &a),
        Err(e)
            if matches!(
                e.code(),
                tonic::Code::NotFound | tonic::Code::PermissionDenied
            ) =>
        {
            return not_found(&app, &a);
        }
        Err(e) => {
            return page(
                &app,
                &a,
                title(lang),
                Problem::from_client(lang, &e).render(),
            )
            .into_response();
        }
    };
    // The Veilig Thuis by its name on the sociale kaart (its OIN when the directory cannot say).
    let recipient = match hub.get_organization(&z.recipient_oin).await {
        Ok(r) => r.organization.map(|o| o.name),
        Err(_) => None,
    };
    let feedback = match read_for_melder(&app, &a, &z.zorgmelding_id, title(lang)).await {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let body = html! {
        dl.meta {
            dt { (lang.t("Registratienummer", "Registration number")) } dd { (z.registration_number) }
            dt { (lang.t("Aan", "To")) } dd { @if let Some(name) = &recipient { (name) br; small { (z.recipient_oin) } } @else { (z.recipient_oin) } }
            dt { (lang.t("Status", "Status")) } dd { @if z.complete { (lang.t("compleet", "complete")) } @else { (lang.t("nog niet compleet", "not complete yet")) } }
            dt { (lang.t("Fragmenten", "Fragments")) } dd { (z.fragments.len()) }
            @if let Some(t) = &z.created_at { dt { (lang.t("Eerste fragment", "First fragment")) } dd { (when(lang, t.seconds)) } }
        }
        section aria-labelledby="terugkoppeling" {
            h2 id="terugkoppeling" { (lang.t("Terugkoppeling van Veilig Thuis", "Feedback from Veilig Thuis")) }
            @match &feedback {
                Ok(list) if list.is_empty() => p { (lang.t("Veilig Thuis heeft nog geen terugkoppeling gegeven.", "Veilig Thuis has not given feedback yet.")) },
                Ok(list) => (feedback_list(lang, list)),
                Err(problem) => (problem),
            }
        }
        h2 { (lang.t("Andere zorgmelding", "Another zorgmelding")) }
        (lookup_form(&a, ""))
    };
    page(&app, &a, title(lang), body).into_response()
}

#[cfg(test)]
mod tests {
    use super::valid_registration;

    #[test]
    fn registration_numbers_as_the_hub_takes_them() {
        assert!(valid_registration("2026-OOST-000123"));
        assert!(valid_registration("PL0900/2026.17_a"));
        assert!(!valid_registration(""));
        assert!(!valid_registration("2026 OOST"));
        assert!(!valid_registration("<script>"));
        assert!(!valid_registration(&"1".repeat(65)));
    }
}
