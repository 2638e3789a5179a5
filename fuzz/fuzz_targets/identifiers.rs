//! BSN and OIN parsing, and the OIN read from a client certificate's subject (DER from the TLS
//! handshake). Must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signaalhub_server::ids::{Bsn, Oin};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = s.parse::<Bsn>();
        let _ = s.parse::<Oin>();
    }
    let _ = signaalhub_server::auth::tls::oin_from_certificate(data);
});
