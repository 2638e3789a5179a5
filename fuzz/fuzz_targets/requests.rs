//! Decoding of every request message the hub accepts (the first byte picks the message type).
//! Must never panic or allocate without bound (libFuzzer's -rss_limit_mb catches the latter).
#![no_main]
use libfuzzer_sys::fuzz_target;
use prost::Message;
use signaalhub_proto::pb;

macro_rules! decode_each {
    ($data:expr, $pick:expr, $($t:ty),+ $(,)?) => {{
        let all: &[fn(&[u8])] = &[$(|d| { let _ = <$t>::decode(d); }),+];
        if let Some(f) = all.get(usize::from($pick) % all.len()) {
            f($data);
        }
    }};
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    decode_each!(
        rest,
        pick,
        pb::SendSignalRequest,
        pb::StreamInboxRequest,
        pb::AckSignalRequest,
        pb::GetSignalRequest,
        pb::WithdrawSignalRequest,
        pb::CheckBasisRequest,
        pb::RecordConsentRequest,
        pb::WithdrawConsentRequest,
        pb::ListConsentsRequest,
        pb::SubjectAccessReportRequest,
        pb::ListOrganizationsRequest,
        pb::PublishKeyRequest,
        pb::SubmitFragmentRequest,
        pb::RecordTriageRequest,
        pb::HandOverRequest,
        pb::RegisterMaatregelRequest,
        pb::HasMaatregelRequest,
        pb::RegisterInvolvementRequest,
        pb::PublishSafetyPlanRequest,
        pb::UpdateOwnProfileRequest,
    );
});
