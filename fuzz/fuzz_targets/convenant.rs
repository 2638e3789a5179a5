//! The convenant file: parsing and validation with located errors, then compiling and explaining
//! whatever validates. Must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(c) = signaalhub_policy::parse("fuzz.toml", text)
    {
        let _ = c.compile();
    }
});
