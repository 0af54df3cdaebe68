//! The Lambda binary outside Lambda: it says so and stops, instead of panicking; and a
//! misconfigured function names the setting at fault.

use stockstream_lambda::testing::{assert_bad_setting, assert_refuses_outside_lambda};

const BIN: &str = env!("CARGO_BIN_EXE_crawler");
const NAME: (&str, &str) = ("CRAWLER_NAME", "stockstream-lake");

#[test]
fn outside_lambda_it_fails_fast_with_a_clear_message() {
    assert_refuses_outside_lambda(BIN, &[NAME]);
}

#[test]
fn a_missing_crawler_name_is_named_at_start() {
    assert_bad_setting(BIN, &[], &["CRAWLER_NAME"], "CRAWLER_NAME: is not set");
}

#[test]
fn a_bad_wait_is_named_at_start() {
    let wait = ("CRAWLER_WAIT_SECONDS", "soon");
    assert_bad_setting(BIN, &[NAME, wait], &[], "CRAWLER_WAIT_SECONDS: \"soon\"");
}
