//! Formats a client or auditor reads back from the hub: signed checkpoint notes and tiles.
//! Must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = signaalhub_proto::checkpoint::SignedCheckpoint::parse(data);
    let _ = signaalhub_proto::merkle::decode_tile(data);
});
