//! Logging in and out, and the language switch.
use super::i18n::Lang;
use super::layout::bare_with;
use super::{Authed, cookie_name, csrf_refused, guest_lang};
use crate::app::App;
use crate::session::Professional;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use std::sync::Arc;

/// `GET /login`: the organisation's identity provider, and in a dev kit its named dev users.
pub async fn page(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = guest_lang(&headers);
    let users = &app.config.login.dev_users;
    bare_with(
        lang,
        lang.t("Inloggen", "Log in"),
        html! {
            p { (app.config.organisation.name) }
            @if app.oidc.is_some() {
                p { a.button href="/login/oidc" { (lang.t("Inloggen met uw account van de organisatie", "Log in with your organisation account")) } }
            }
            @if !users.is_empty() {
                section aria-labelledby="dev" {
                    h2 id="dev" { (lang.t("Ontwikkelomgeving", "Development kit")) }
                    p.warn {
                        (lang.t(
                            "Deze gebruikers bestaan alleen in de dev-kit. Een echte console logt in via de identity provider van uw organisatie.",
                            "These users exist only in the dev kit. A real console logs in through your organisation's identity provider.",
                        ))
                    }
                    @for u in users {
                        form method="post" action="/login/dev" {
                            input type="hidden" name="user" value=(u.id);
                            button type="submit" {
                                (lang.t("Inloggen als ", "Log in as ")) (u.name)
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

/// The dev login form.
#[derive(Debug, serde::Deserialize)]
pub struct DevLogin {
    user: String,
}

/// `POST /login/dev`: logs in as a configured dev user.
pub async fn dev(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(f): Form<DevLogin>,
) -> Response {
    let lang = guest_lang(&headers);
    let Some(u) = app.config.login.dev_users.iter().find(|u| u.id == f.user) else {
        return (
            StatusCode::FORBIDDEN,
            bare_with(
                lang,
                lang.t("Inloggen mislukt", "Login failed"),
                html! { p { (lang.t("Deze gebruiker bestaat hier niet.", "No such user here.")) } },
            ),
        )
            .into_response();
    };
    let professional = Professional {
        id: u.id.clone(),
        name: u.name.clone(),
        roles: u.roles.clone(),
    };
    start_session(&app, professional, lang, "login:dev").await
}

/// Starts a session and sends the browser to the home page with its cookie.
pub async fn start_session(
    app: &App,
    professional: Professional,
    lang: Lang,
    how: &str,
) -> Response {
    let id = professional.id.clone();
    let Some(sid) = app.sessions.start(professional, lang) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no randomness").into_response();
    };
    if let Err(e) = app.store.audit(&id, how, "-").await {
        tracing::warn!(error = %e, "audit log");
        app.sessions.end(&sid);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the gateway's audit log cannot be written; nobody can log in until it can",
        )
            .into_response();
    }
    let secure = if app.config.tls.is_some() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={sid}; HttpOnly; SameSite=Strict; Path=/{secure}",
        cookie_name(app)
    );
    let mut res = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// A form with only its CSRF token.
#[derive(Debug, serde::Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /logout`: ends the session at once.
pub async fn logout(State(app): State<Arc<App>>, a: Authed, Form(f): Form<CsrfOnly>) -> Response {
    if !a.csrf_ok(&f.csrf) {
        return csrf_refused(a.lang());
    }
    app.sessions.end(&a.sid);
    let _ = app
        .store
        .audit(&a.session.professional.id, "logout", "-")
        .await;
    let mut res = Redirect::to("/login").into_response();
    let gone = format!(
        "{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        cookie_name(&app),
        if app.config.tls.is_some() {
            "; Secure"
        } else {
            ""
        }
    );
    if let Ok(v) = HeaderValue::from_str(&gone) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// The language switch.
#[derive(Debug, serde::Deserialize)]
pub struct SetLang {
    csrf: String,
    lang: String,
}

/// `POST /taal`: switches the session's language and returns to the page it came from.
pub async fn set_lang(State(app): State<Arc<App>>, a: Authed, Form(f): Form<SetLang>) -> Response {
    if !a.csrf_ok(&f.csrf) {
        return csrf_refused(a.lang());
    }
    let Some(lang) = Lang::from_code(&f.lang) else {
        return (StatusCode::BAD_REQUEST, "lang: nl or en").into_response();
    };
    app.sessions.set_lang(&a.sid, lang);
    // Home: a form half filled in would not survive the switch anyway.
    let mut res = Redirect::to("/").into_response();
    let cookie = format!("signaal_lang={}; SameSite=Strict; Path=/", lang.code());
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// The short-lived cookie that binds an OpenID Connect login to the browser that started it
/// (SameSite=Lax: the provider's redirect back is a cross-site top-level navigation).
const LOGIN_COOKIE: &str = "signaal_login";

/// `GET /login/oidc`: to the identity provider, with PKCE and a fresh state and nonce.
pub async fn oidc_start(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = guest_lang(&headers);
    let Some(oidc) = &app.oidc else {
        return (StatusCode::NOT_FOUND, bare_with(lang, lang.t("Inloggen", "Log in"), html! {
            p { (lang.t("Deze console heeft geen identity provider.", "This console has no identity provider.")) }
        })).into_response();
    };
    let (url, pending) = oidc.begin();
    let state = pending.state().to_owned();
    app.pending_logins.put(state.clone(), pending);
    let secure = if app.config.tls.is_some() {
        "; Secure"
    } else {
        ""
    };
    let mut res = Redirect::to(&url).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={state}; HttpOnly; SameSite=Lax; Path={}; Max-Age=600{secure}",
        crate::oidc::CALLBACK_PATH
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// The provider's answer.
#[derive(Debug, serde::Deserialize)]
pub struct Callback {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
}

/// `GET /login/oidc/callback`: checks that this browser started this login, exchanges the code
/// and starts the session. The login cookie has done its work either way: it is cleared on every
/// answer, so a finished or failed login leaves nothing behind in the browser.
pub async fn oidc_callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(cb): Query<Callback>,
) -> Response {
    let secure = app.config.tls.is_some();
    let mut res = callback(app, headers, cb).await;
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}=; HttpOnly; SameSite=Lax; Path={}; Max-Age=0{}",
        crate::oidc::CALLBACK_PATH,
        if secure { "; Secure" } else { "" }
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

async fn callback(app: Arc<App>, headers: HeaderMap, cb: Callback) -> Response {
    let lang = guest_lang(&headers);
    let failed = |why: String| {
        (
            StatusCode::FORBIDDEN,
            bare_with(
                lang,
                lang.t("Inloggen mislukt", "Login failed"),
                html! {
                    p { (why) }
                    p { a href="/login" { (lang.t("Opnieuw inloggen", "Log in again")) } }
                },
            ),
        )
            .into_response()
    };
    let Some(oidc) = &app.oidc else {
        return failed(
            lang.t(
                "Deze console heeft geen identity provider.",
                "This console has no identity provider.",
            )
            .into(),
        );
    };
    if !cb.error.is_empty() {
        return failed(
            lang.t(
                "De identity provider heeft het inloggen afgebroken.",
                "The identity provider stopped the login.",
            )
            .into(),
        );
    }
    let started_here = super::cookie_value(&headers, LOGIN_COOKIE)
        .is_some_and(|c| crate::session::same_token(c, &cb.state));
    let pending = if started_here {
        app.pending_logins.take(&cb.state)
    } else {
        None
    };
    let Some(pending) = pending else {
        return failed(
            lang.t(
                "Deze inlogpoging is verlopen of niet in deze browser begonnen.",
                "This login expired or was not started in this browser.",
            )
            .into(),
        );
    };
    match oidc.finish(pending, &cb.code, &cb.state).await {
        Ok(p) => {
            let professional = Professional {
                id: p.id,
                name: p.name,
                roles: p.roles,
            };
            start_session(&app, professional, lang, "login:oidc").await
        }
        Err(e) => {
            tracing::info!(error = %e, "oidc login refused");
            failed(e.to_string())
        }
    }
}
