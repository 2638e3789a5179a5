//! The envelope as it arrives: protobuf decoding, then the structure checks, the AAD and the
//! signing input the hub computes from it. Must never panic, whatever the bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use prost::Message;
use signaalhub_proto::{envelope, pb};

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = pb::Envelope::decode(data) {
        if envelope::check_structure(&env).is_ok() {
            let _ = envelope::signing_input(&env);
            if let Some(b) = &env.binding {
                let _ = envelope::aad(b);
            }
        }
    }
    if let Ok(b) = pb::EnvelopeBinding::decode(data) {
        let _ = envelope::check_binding(&b);
    }
});
