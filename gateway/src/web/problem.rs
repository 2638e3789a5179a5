//! What a professional reads when the hub says no, or cannot be reached: the hub's reasons in
//! the console's language, the fields to fix, and never a token, key or raw status dump.
use super::i18n::Lang;
use maud::{Markup, html};
use signaalhub_client::ClientError;
use tonic_types::StatusExt;

/// A problem to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// One sentence: what happened.
    pub title: String,
    /// The reasons or the fields to fix, one per line.
    pub items: Vec<String>,
}

impl Problem {
    /// A problem with a title only.
    pub fn new(title: impl Into<String>) -> Problem {
        Problem {
            title: title.into(),
            items: Vec::new(),
        }
    }

    /// From a failed hub call.
    pub fn from_client(lang: Lang, e: &ClientError) -> Problem {
        match e {
            ClientError::Status(s) => from_status(lang, s),
            ClientError::Transport(_) => Problem::new(lang.t(
                "De hub is nu niet bereikbaar. Er is niets verstuurd; probeer het over een minuut opnieuw.",
                "The hub cannot be reached now. Nothing was sent; try again in a minute.",
            )),
            ClientError::Config(m) => Problem {
                title: lang
                    .t("De gateway kon dit niet voorbereiden.", "The gateway could not prepare this.")
                    .into(),
                items: vec![m.clone()],
            },
        }
    }

    /// As HTML: a `role=alert` box.
    pub fn render(&self) -> Markup {
        html! {
            div.problem role="alert" {
                p { strong { (self.title) } }
                @if !self.items.is_empty() {
                    ul { @for i in &self.items { li { (i) } } }
                }
            }
        }
    }
}

fn from_status(lang: Lang, s: &tonic::Status) -> Problem {
    let details = s.get_error_details();
    let mut items = Vec::new();
    if let Some(br) = details.bad_request() {
        for v in &br.field_violations {
            items.push(super::violations::line(lang, &v.field, &v.description));
        }
    }
    if s.code() == tonic::Code::PermissionDenied {
        let nl = details
            .localized_message()
            .filter(|m| m.locale.starts_with("nl"))
            .map(|m| m.message.clone());
        match (lang, nl) {
            (Lang::Nl, Some(nl)) => items.extend(nl.split("; ").map(str::to_owned)),
            _ => {
                if let Some(pf) = details.precondition_failure() {
                    items.extend(pf.violations.iter().map(|v| v.description.clone()));
                }
            }
        }
        if items.is_empty() {
            items.push(s.message().to_owned());
        }
        return Problem {
            title: lang
                .t(
                    "Het convenant staat dit niet toe.",
                    "The convenant does not allow this.",
                )
                .into(),
            items,
        };
    }
    let title = match s.code() {
        tonic::Code::InvalidArgument => lang.t(
            "De hub kon het formulier niet aannemen; verbeter:",
            "The hub could not accept the form; please correct:",
        ),
        tonic::Code::NotFound => lang.t("Niet gevonden.", "Not found."),
        tonic::Code::FailedPrecondition => {
            lang.t("De hub weigert dit nu:", "The hub refuses this now:")
        }
        tonic::Code::AlreadyExists => lang.t(
            "Dit bestaat al met een andere inhoud.",
            "This already exists with other content.",
        ),
        tonic::Code::Unauthenticated => lang.t(
            "De hub herkent uw aanmelding niet; log opnieuw in.",
            "The hub does not accept your login; log in again.",
        ),
        tonic::Code::ResourceExhausted => lang.t(
            "Te veel verzoeken tegelijk; probeer het zo opnieuw.",
            "Too many requests at once; try again shortly.",
        ),
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => lang.t(
            "De hub is nu niet beschikbaar; probeer het zo opnieuw.",
            "The hub is not available now; try again shortly.",
        ),
        _ => lang.t("De hub gaf een fout.", "The hub returned an error."),
    };
    if items.is_empty() {
        items.push(super::violations::message(lang, s.message()));
    }
    Problem {
        title: title.into(),
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::ErrorDetails;

    #[test]
    fn field_violations_and_dutch_reasons_are_shown() {
        let mut d = ErrorDetails::new();
        d.add_bad_request_violation("subject_bsn", "fails the elfproef");
        d.add_bad_request_violation(
            "subject.gezag_holders",
            signaalhub_server::api::basis::PERSON_REF_RULE,
        );
        let s = tonic::Status::with_error_details(tonic::Code::InvalidArgument, "bad", d);
        let p = Problem::from_client(Lang::Nl, &ClientError::Status(s));
        // The field as the form labels it; a rule the console knows in Dutch, another as written.
        assert_eq!(p.items[0], "BSN: fails the elfproef");
        assert!(
            p.items[1].starts_with("gezaghebbenden: een verwijzing, nooit een naam"),
            "{}",
            p.items[1]
        );

        let mut d = ErrorDetails::new();
        d.add_precondition_failure_violation("CONSENT_MISSING", "r1", "consent is missing");
        d.set_localized_message("nl-NL", "toestemming ontbreekt; nog iets");
        let s = tonic::Status::with_error_details(tonic::Code::PermissionDenied, "no", d);
        let e = ClientError::Status(s);
        assert_eq!(
            Problem::from_client(Lang::Nl, &e).items,
            vec!["toestemming ontbreekt".to_string(), "nog iets".to_string()]
        );
        assert_eq!(
            Problem::from_client(Lang::En, &e).items,
            vec!["consent is missing".to_string()]
        );
    }
}
