//! Fuzzes the `netconsole=` parser: any bytes, as one target and as a whole option string.
//!
//! Beyond "never panics", it checks what must hold for every result: a target that parsed is
//! valid and its canonical option string parses back to the same target; an error's `cur`
//! text is the input at the error's offset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netconsole_options::{
    parse_target_bytes, targets_bytes, ParseError, ParseErrorKind, Parsed, MAX_TARGET_TEXT_LEN,
};
use std::fmt::Write;

fuzz_target!(|data: &[u8]| {
    check(data, parse_target_bytes(data));
    for result in targets_bytes(data) {
        check(data, result);
    }
});

fn check(input: &[u8], result: Result<Parsed, ParseError<'_>>) {
    let mut text = String::new();
    match result {
        Ok(parsed) => {
            let target = parsed.target;
            assert_eq!(target.validate(), Ok(()));
            let canonical = target.to_option_string();
            assert!(canonical.as_bytes().len() <= MAX_TARGET_TEXT_LEN);
            let back = parse_target_bytes(canonical.as_bytes())
                .unwrap_or_else(|e| panic!("{canonical} does not parse back: {e}"));
            assert_eq!(back.target, target, "{canonical}");
            assert_eq!(back.warning, None);
            if let Some(canonical) = canonical.as_str() {
                write!(text, "{target}").unwrap();
                assert_eq!(text, canonical);
            }
        }
        Err(error) => {
            write!(text, "{error} {error:?} {}", error.kind()).unwrap();
            match error.kind() {
                ParseErrorKind::OptionStringTooLong { .. } | ParseErrorKind::TargetSeparator => {}
                _ => {
                    let end = error.offset() + error.cur().len();
                    assert_eq!(input.get(error.offset()..end), Some(error.cur()));
                }
            }
        }
    }
}
