//! The organisation's notifications (`StreamNotifications`): what other parties did that concerns
//! it — a wijkteam asked about its maatregel, a match, a coordinator, a safety plan, an
//! involvement ended. The hub keeps them, oldest first after a cursor, then streams new ones
//! live; the gateway stores none. To show them it reads the stream from the start until the hub
//! has sent what it holds (the stream goes quiet), and pages that newest first by cursor.
use crate::app::App;
use crate::session::Professional;
use signaalhub_client::ClientError;
use signaalhub_client::signaalhub_proto::pb;
use std::time::Duration;

/// How long the stream may stay quiet before the hub is taken to have sent what it holds. The
/// hub sends its stored notifications at once, so a pause this long means it waits for new ones.
pub const QUIET: Duration = Duration::from_millis(400);

/// At most this many notifications are read for one page (the hub keeps a notification as long
/// as its case's retention; an organisation with more sees the newest of the first ones read).
pub const MAX_READ: usize = 5000;

/// One notification.
pub type Notification = pb::StreamNotificationsResponse;

/// The notifications of the organisation, oldest first, as far as the hub sends them before the
/// stream goes quiet (at most [`MAX_READ`]).
pub async fn read_all(app: &App, actor: &Professional) -> Result<Vec<Notification>, ClientError> {
    let mut hub = app.hub_as(actor)?;
    let mut stream = hub.stream_notifications(0).await?;
    let mut out = Vec::new();
    while out.len() < MAX_READ {
        match tokio::time::timeout(QUIET, stream.message()).await {
            Err(_quiet) => break,
            Ok(Ok(Some(n))) => out.push(n),
            Ok(Ok(None)) => break,
            Ok(Err(status)) => return Err(ClientError::Status(status)),
        }
    }
    Ok(out)
}

/// A page of `all` (oldest first), newest first: the `size` newest with a cursor below `before`
/// (all when `None`), and the cursor to ask the next, older page with (`None`: none older).
pub fn page(
    all: &[Notification],
    before: Option<u64>,
    size: usize,
) -> (Vec<&Notification>, Option<u64>) {
    let mut older: Vec<&Notification> = all
        .iter()
        .filter(|n| before.is_none_or(|b| n.cursor < b))
        .collect();
    older.sort_by_key(|n| std::cmp::Reverse(n.cursor));
    let more = older.len() > size;
    older.truncate(size);
    let next = if more {
        older.last().map(|n| n.cursor)
    } else {
        None
    };
    (older, next)
}

/// A kind in plain Dutch and English.
pub fn kind_text(kind: i32) -> (&'static str, &'static str) {
    use pb::NotificationKind as K;
    match K::try_from(kind).unwrap_or(K::Unspecified) {
        K::MaatregelQueried => (
            "Gevraagd naar uw maatregel",
            "Your maatregel was asked about",
        ),
        K::InvolvementMatched => (
            "Nieuwe betrokkene bij een kind",
            "Another party involved with a child",
        ),
        K::InvolvementEnded => ("Betrokkenheid beëindigd", "Involvement ended"),
        K::CoordinatorProposed => (
            "Voorgesteld als casusregisseur",
            "Proposed as case coordinator",
        ),
        K::CoordinatorAccepted => ("Nieuwe casusregisseur", "New case coordinator"),
        K::CoordinatorDeclined => (
            "Voorstel casusregisseur afgewezen",
            "Coordinator proposal declined",
        ),
        K::SafetyPlanPublished => (
            "Nieuwe versie van het veiligheidsplan",
            "New version of the safety plan",
        ),
        K::SafetyPlanConfirmed => (
            "Afspraken van het veiligheidsplan bevestigd",
            "Safety plan agreements confirmed",
        ),
        K::MaatregelQueriesLimited => (
            "Een organisatie vroeg te vaak naar maatregelen",
            "An organisation asked about maatregelen too often",
        ),
        K::MaatregelEnded => ("Maatregel beëindigd", "Maatregel ended"),
        K::MeldingReviewDue => (
            "Herbeoordeling van een melding is aan de beurt",
            "A melding's review is due",
        ),
        K::SafetyPlanReviewDue => (
            "Evaluatie van het veiligheidsplan is aan de beurt",
            "The safety plan's review is due",
        ),
        K::HandoverUnanswered => (
            "Overdracht nog niet beantwoord",
            "Handover not yet answered",
        ),
        K::InformOverdue => (
            "Het gezin is nog niet geïnformeerd",
            "The family has not been informed yet",
        ),
        K::FamilyRequestGranted => (
            "Verzoek van een gezin toegewezen: pas uw gegevens aan",
            "A family's request was granted: update your data",
        ),
        K::Unspecified => ("Bericht", "Notification"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(cursor: u64) -> Notification {
        Notification {
            cursor,
            ..Default::default()
        }
    }

    #[test]
    fn pages_run_newest_first_by_cursor() {
        let all: Vec<Notification> = (1..=7).map(n).collect();
        let (first, next) = page(&all, None, 3);
        assert_eq!(
            first.iter().map(|n| n.cursor).collect::<Vec<_>>(),
            [7, 6, 5]
        );
        assert_eq!(next, Some(5));
        let (second, next) = page(&all, next, 3);
        assert_eq!(
            second.iter().map(|n| n.cursor).collect::<Vec<_>>(),
            [4, 3, 2]
        );
        let (last, next) = page(&all, next, 3);
        assert_eq!(last.iter().map(|n| n.cursor).collect::<Vec<_>>(), [1]);
        assert_eq!(next, None);
        // Exactly a page: no older page offered.
        assert_eq!(page(&all[..3], None, 3).1, None);
        assert!(page(&[], None, 3).0.is_empty());
    }

    #[test]
    fn every_kind_has_its_own_dutch() {
        let texts: Vec<&str> = (1..=13).map(|k| kind_text(k).0).collect();
        for (k, t) in texts.iter().enumerate() {
            assert_ne!(*t, "Bericht", "kind {}", k + 1);
            assert_eq!(texts.iter().filter(|o| *o == t).count(), 1, "{t}");
        }
        assert_eq!(kind_text(99), ("Bericht", "Notification"));
    }
}
