//! What build.rs makes of an option string: a firmware whose bring-up cannot succeed (no
//! target, more targets than the console has room for) fails the build, with words that say
//! why, instead of building.

use crate::compiled_in::targets_of;
use crate::TARGETS;

const BASIC: &str = "6665@10.0.2.15/,6666@10.0.2.2/";

fn refusal(options: &str, extended_built: bool) -> String {
    match targets_of(options, extended_built) {
        Ok((targets, _)) => panic!("{options:?}: built with {} targets", targets.len()),
        Err(why) => why,
    }
}

#[test]
fn an_empty_option_string_fails_the_build_rather_than_make_a_firmware_with_no_target() {
    let why = refusal("", true);
    assert!(why.contains("no target"), "{why}");
}

#[test]
fn more_targets_than_the_console_has_room_for_fail_the_build() {
    let room = [BASIC; TARGETS].join(";");
    assert_eq!(targets_of(&room, false).unwrap().0.len(), TARGETS);
    let over = [BASIC; TARGETS + 1].join(";");
    let why = refusal(&over, false);
    assert!(why.contains(&format!("room for {TARGETS}")), "{why}");
}

#[test]
fn what_linux_or_this_build_refuses_fails_the_build_and_says_where() {
    assert!(refusal(";", true).contains("couldn't parse config at ''"));
    assert!(refusal(&format!("{BASIC}\n"), true).contains("couldn't parse config"));
    let plus = format!("{BASIC};+6665@10.0.2.15/,6667@10.0.2.2/");
    let why = refusal(&plus, false);
    assert!(why.contains("`+6665@10.0.2.15/,6667@10.0.2.2/`"), "{why}");
    assert!(why.contains("`extended` feature"), "{why}");
    assert_eq!(targets_of(&plus, true).unwrap().0.len(), 2);
    // Linux's parser takes the families apart before the target is made.
    let why = refusal("@10.0.0.1/,@fd00::2/", true);
    assert!(why.contains("at 'fd00::2'"), "{why}");
    // IPv6 is a target like another.
    let (v6, _) = targets_of("@fd00::1/,@fd00::2/", false).unwrap();
    assert!(v6[0].endpoint.remote_ip.is_ipv6());
}
