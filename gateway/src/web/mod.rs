//! The console: server-rendered HTML in Dutch (English as a switch), one screen per job. Every
//! action calls the hub through the same client-lib functions as the `signaal` CLI; no rule of
//! the convenant is decided here.
//!
//! Security at this edge: sessions in HttpOnly SameSite=Strict cookies (Secure over TLS), a CSRF
//! token in every form plus an Origin check on every POST, a strict content security policy
//! (no inline script or style), a body limit, and no payload or BSN in any log line.
mod audit;
mod berichten;
mod disclosure;
mod fg;
mod gezin;
pub mod i18n;
mod inbox;
mod informatie;
mod layout;
mod login;
mod maatregel;
mod meldcode;
mod meldingen;
mod overdracht;
mod overdragen;
mod politie;
mod problem;
mod register;
mod signal;
mod terugkoppeling;
mod triage;
pub mod violations;
mod zaak;
mod zorgmelding;

use crate::app::App;
use crate::session::Session;
pub(crate) use audit::shown as audit_shown;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use i18n::Lang;
use std::sync::Arc;

/// Largest form the console accepts (a signal's text included).
pub const MAX_BODY: usize = 256 * 1024;

/// The console's routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(layout::home))
        .route("/login", get(login::page))
        .route("/login/dev", post(login::dev))
        .route("/login/oidc", get(login::oidc_start))
        .route(crate::oidc::CALLBACK_PATH, get(login::oidc_callback))
        .route("/logout", post(login::logout))
        .route("/taal", post(login::set_lang))
        .route("/signaal/nieuw", get(signal::form).post(signal::submit))
        .route("/meldcode", get(meldcode::form).post(meldcode::submit))
        .route("/signalen", get(signal::sent_list))
        .route("/signalen/{id}", get(signal::status))
        .route("/signalen/{id}/terugroepen", post(signal::withdraw))
        .route("/postvak", get(inbox::list))
        .route("/postvak/zorgmelding/{id}", get(zorgmelding::melding))
        .route("/postvak/{sender}/{id}", get(inbox::open))
        .route("/postvak/{sender}/{id}/ontvangen", post(inbox::acknowledge))
        .nest("/melding/zm/{id}", triage::routes())
        .nest("/melding/signaal/{sender}/{id}", triage::routes())
        .route("/overdracht/{sender}/{id}", get(overdracht::view))
        .route(
            "/overdracht/{sender}/{id}/antwoord",
            post(overdracht::answer),
        )
        .route(
            "/overdracht/{sender}/{id}/vraag/{n}",
            get(overdracht::question),
        )
        .route("/overdracht/{sender}/{id}/brief", get(overdracht::letter))
        .route("/berichten", get(berichten::list))
        .route("/meldingen", get(meldingen::list))
        .route("/informatieverzoeken", get(informatie::list))
        .route(
            "/informatieverzoeken/{vt}/{id}",
            get(informatie::view).post(informatie::reply),
        )
        .route("/zorgmeldingen", get(politie::home).post(politie::lookup))
        .route("/zorgmeldingen/{id}", get(politie::view))
        .route("/maatregel", get(maatregel::home).post(maatregel::submit))
        .route("/register", get(register::home).post(register::submit))
        .route("/register/beeindigen", post(register::end))
        .route("/zaak/{case}", get(zaak::view))
        .route("/zaak/{case}/regisseur", post(zaak::propose))
        .route("/zaak/{case}/voorstel/{proposal}", post(zaak::respond))
        .route("/zaak/{case}/plan", post(zaak::publish))
        .route("/zaak/{case}/toestemmingen", post(zaak::consents))
        .route("/zaak/{case}/plan/{version}", get(zaak::version))
        .route(
            "/zaak/{case}/betrokkenheid/{involvement}/beeindigen",
            post(zaak::end),
        )
        .route(
            "/zaak/{case}/plan/{version}/bevestigen",
            post(zaak::confirm),
        )
        .route("/gezin", get(gezin::home))
        .route("/gezin/geinformeerd", post(gezin::informed))
        .route("/gezin/uitzondering", post(gezin::exemption))
        .route("/gezin/verzoek", post(gezin::request))
        .route("/gezin/besluit", post(gezin::decide))
        .route("/gezin/bevestigen", post(gezin::confirm))
        .route("/gezin/referentie", post(gezin::reference))
        .route("/gezin/koppelen", post(gezin::merge))
        .route("/fg", get(fg::home))
        .route("/fg/inzage", post(fg::access))
        .route("/fg/brief", post(fg::letter))
        .route("/fg/auditlog", get(audit::list))
        .route("/static/console.css", get(layout::css))
        .route("/static/console.js", get(layout::js))
        .route("/healthz", get(|| async { "ok" }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .nest(crate::api::PREFIX, crate::api::router())
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
}

/// Security headers on every answer; console POSTs only from the console's own pages. The local
/// API (`/api/`) is exempt from the Origin check: it takes no cookie, only a bearer token, so a
/// foreign page cannot make a browser send it with ambient credentials (no CSRF path).
async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    if !api
        && req.method() != Method::GET
        && req.method() != Method::HEAD
        && !same_origin(&app, req.headers())
    {
        return (
            StatusCode::FORBIDDEN,
            "Geweigerd: dit formulier kwam niet van deze console. / Refused: this form did not come from this console.",
        )
            .into_response();
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    // A page that set its own, stricter policy (the family letter: sandboxed) keeps it.
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ));
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // `same-origin`, not `no-referrer`: with no-referrer browsers send `Origin: null` on form posts.
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::CACHE_CONTROL, "no-store");
    if app.config.tls.is_some() {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    res
}

/// Whether a state-changing request comes from the console's own origin: its `Origin` header
/// (browsers send it on every POST) must be the public URL's origin; without one, the fetch
/// metadata must say same-origin.
fn same_origin(app: &App, headers: &HeaderMap) -> bool {
    let ours = app.public_url();
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => origin == ours || origin_alias(&ours).as_deref() == Some(origin),
        None => headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_none_or(|s| s == "same-origin" || s == "none"),
    }
}

/// `http://127.0.0.1:P` and `http://localhost:P` are the same console on a developer's machine.
fn origin_alias(ours: &str) -> Option<String> {
    if let Some(rest) = ours.strip_prefix("http://127.0.0.1:") {
        return Some(format!("http://localhost:{rest}"));
    }
    ours.strip_prefix("http://localhost:")
        .map(|rest| format!("http://127.0.0.1:{rest}"))
}

/// The session cookie's name: `__Host-` prefixed (Secure, no Domain, Path=/) over TLS.
pub fn cookie_name(app: &App) -> &'static str {
    if app.config.tls.is_some() {
        "__Host-signaal"
    } else {
        "signaal"
    }
}

pub(crate) fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The language of a request without a session: the `signaal_lang` cookie, else Dutch.
fn guest_lang(headers: &HeaderMap) -> Lang {
    cookie_value(headers, "signaal_lang")
        .and_then(Lang::from_code)
        .unwrap_or_default()
}

/// A request by a logged-in professional.
#[derive(Debug)]
pub struct Authed {
    /// The session id (cookie value).
    pub sid: String,
    /// The session.
    pub session: Session,
}

impl Authed {
    /// The console language.
    pub fn lang(&self) -> Lang {
        self.session.lang
    }

    /// Whether a form's CSRF token is this session's.
    pub fn csrf_ok(&self, token: &str) -> bool {
        crate::session::same_token(&self.session.csrf, token)
    }
}

impl FromRequestParts<Arc<App>> for Authed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let sid = cookie_value(&parts.headers, cookie_name(app)).unwrap_or("");
        match app.sessions.get(sid) {
            Some(session) => Ok(Authed {
                sid: sid.to_owned(),
                session,
            }),
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// A BSN as a person types it (spaces and dots allowed), checked before the hub is asked: the
/// digits, or what to fix in the console's language. Every screen with a BSN field uses this.
pub(crate) fn bsn_field(lang: Lang, typed: &str) -> Result<String, String> {
    crate::actions::bsn_rule(typed).map_err(|i| i.describe(lang).to_owned())
}

/// The subject field of every screen: a BSN, or the reference the hub issued for a person
/// without one (`SH-…`, issued on *Gezin*), checked by [`bsn_field`]. `id` is the input's id;
/// its name is `bsn`.
pub(crate) fn subject_field(lang: Lang, id: &str, value: &str) -> maud::Markup {
    let hint = format!("{id}-hint");
    maud::html! {
        label for=(id) { (lang.t("BSN (of referentie)", "BSN (or reference)")) }
        input id=(id) name="bsn" value=(value) autocomplete="off" spellcheck="false" maxlength="24" aria-describedby=(hint) required;
        p.hint id=(hint) { (lang.t(
            "9 cijfers. Geen BSN bekend? Vraag op Gezin een referentie aan (SH-…) en gebruik die overal.",
            "9 digits. No BSN known? Ask for a reference on Gezin (SH-…) and use it everywhere.",
        )) }
    }
}

/// The hint under a field that takes several subjects (comma-separated).
pub(crate) fn subjects_hint(lang: Lang, id: &str) -> maud::Markup {
    maud::html! {
        p.hint id=(id) { (lang.t(
            "BSN's of referenties van de hub (SH-…), gescheiden door komma's.",
            "BSNs or the hub's references (SH-…), comma-separated.",
        )) }
    }
}

/// A console page holding one problem, answered with `status` (a refusal, or not found).
fn problem_page(app: &App, a: &Authed, status: StatusCode, title: &str, text: &str) -> Response {
    (
        status,
        layout::page(app, a, title, problem::Problem::new(text).render()),
    )
        .into_response()
}

/// The refusal page for a professional whose roles do not open a screen (403 with `text`), or
/// `None` when `allowed`.
fn refused_unless(
    app: &App,
    a: &Authed,
    allowed: bool,
    title: &str,
    text: &str,
) -> Option<Response> {
    (!allowed).then(|| problem_page(app, a, StatusCode::FORBIDDEN, title, text))
}

/// The answer to a form whose CSRF token is wrong (an old tab after logging in again, or a
/// forged request).
fn csrf_refused(lang: Lang) -> Response {
    (
        StatusCode::FORBIDDEN,
        layout::bare(
            lang,
            lang.t("Formulier verlopen", "Form expired"),
            lang.t(
                "Dit formulier hoort niet bij uw huidige sessie. Open de pagina opnieuw en probeer het nog eens.",
                "This form does not belong to your current session. Open the page again and retry.",
            ),
        ),
    )
        .into_response()
}
