//! Console sessions: a random id in an HttpOnly, SameSite=Strict cookie (Secure over TLS), the
//! professional behind it, a CSRF token for its forms, and an idle and an absolute expiry.
//! Sessions live in memory: a restart logs everyone out, which is the safe side.
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Who is logged in.
#[derive(Debug, Clone)]
pub struct Professional {
    /// The id that goes into hub tokens (`sub`) and the audit log.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Convenant roles.
    pub roles: Vec<String>,
}

/// A logged-in session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The professional.
    pub professional: Professional,
    /// The token every form of this session carries.
    pub csrf: String,
    /// Console language: `nl` or `en`.
    pub lang: crate::web::i18n::Lang,
    created: Instant,
    last_seen: Instant,
}

/// 32 random bytes as 64 hex characters.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // SystemRandom fails only when the OS has no randomness; then no session can be made safely.
    if SystemRandom::new().fill(&mut b).is_err() {
        return String::new();
    }
    hex::encode(b)
}

/// Constant-time comparison of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty()
        && a.len() == b.len()
        && bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()))
}

/// The session table.
#[derive(Debug)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    idle: Duration,
    max: Duration,
}

impl Sessions {
    /// Sessions that end after `idle` without a request, and at the latest after `max`.
    pub fn new(idle: Duration, max: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            idle,
            max,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session; returns its id (the cookie value). `None` if no randomness.
    pub fn start(
        &self,
        professional: Professional,
        lang: crate::web::i18n::Lang,
    ) -> Option<String> {
        let id = random_token();
        let csrf = random_token();
        if id.is_empty() || csrf.is_empty() {
            return None;
        }
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| !self.expired(s, now));
        map.insert(
            id.clone(),
            Session {
                professional,
                csrf,
                lang,
                created: now,
                last_seen: now,
            },
        );
        Some(id)
    }

    fn expired(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_seen) > self.idle || now.duration_since(s.created) > self.max
    }

    /// The live session for a cookie value, touching it; an expired one is removed.
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.lock();
        let expired = match map.get(id) {
            None => return None,
            Some(s) => self.expired(s, now),
        };
        if expired {
            map.remove(id);
            return None;
        }
        let s = map.get_mut(id)?;
        s.last_seen = now;
        Some(s.clone())
    }

    /// Sets the session's language.
    pub fn set_lang(&self, id: &str, lang: crate::web::i18n::Lang) {
        if let Some(s) = self.lock().get_mut(id) {
            s.lang = lang;
        }
    }

    /// Ends a session (logout).
    pub fn end(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// Pre-login state of OpenID Connect logins in flight, by their `state` value, kept for 10
/// minutes.
#[derive(Debug)]
pub struct Pending<T> {
    map: Mutex<HashMap<String, (Instant, T)>>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Pending<T> {
    /// Keeps `value` under `key`.
    pub fn put(&self, key: String, value: T) {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (t, _)| now.duration_since(*t) < Duration::from_secs(600));
        map.insert(key, (now, value));
    }

    /// Takes the value under `key` (once).
    pub fn take(&self, key: &str) -> Option<T> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key)
            .filter(|(t, _)| t.elapsed() < Duration::from_secs(600))
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Lang;

    fn ib() -> Professional {
        Professional {
            id: "ib-1".into(),
            name: "IB".into(),
            roles: vec!["ib_er".into()],
        }
    }

    #[test]
    fn sessions_expire_and_end() {
        let s = Sessions::new(Duration::from_secs(60), Duration::from_secs(3600));
        let id = s.start(ib(), Lang::Nl).unwrap_or_default();
        assert_eq!(id.len(), 64);
        assert!(s.get(&id).is_some());
        assert!(s.get("other").is_none());
        s.end(&id);
        assert!(s.get(&id).is_none());
        let short = Sessions::new(Duration::from_millis(1), Duration::from_secs(3600));
        let id = short.start(ib(), Lang::Nl).unwrap_or_default();
        std::thread::sleep(Duration::from_millis(20));
        assert!(short.get(&id).is_none(), "idle expiry");
    }

    #[test]
    fn tokens_compare_in_constant_time_and_never_empty() {
        let t = random_token();
        assert!(same_token(&t, &t.clone()));
        assert!(!same_token(&t, &random_token()));
        assert!(!same_token("", ""));
    }
}
