//! The Lambda binary outside Lambda: it says so and stops, instead of panicking; and a
//! misconfigured function names the setting at fault.

use stockstream_lambda::testing::{assert_bad_setting, assert_refuses_outside_lambda};

const SETTINGS: [(&str, &str); 3] = [
    ("ATHENA_WORKGROUP", "stockstream"),
    ("ATHENA_DATABASE", "stockstream_lake"),
    ("REPORT_BUCKET", "stockstream-reports"),
];

/// Optional settings the test machine's environment must not lend the binary.
const OPTIONAL: [&str; 9] = [
    "ATHENA_OUTPUT",
    "REPORT_PREFIX",
    "REPORT_DAYS",
    "REPORT_SYMBOLS",
    "INSIGHT_DEADLINE_SECONDS",
    "REPORTS_TOPIC_ARN",
    "REPORT_LINK_DAYS",
    "BENCHMARK_SYMBOL",
    "CORRELATION_PAIRS",
];

const BIN: &str = env!("CARGO_BIN_EXE_insights");

/// The binary's start with the required settings, `set`, and without `unset` (and without
/// any optional one not set).
fn bad_setting(set: &[(&str, &str)], unset: &[&str], says: &str) {
    let mut all: Vec<(&str, &str)> = SETTINGS.to_vec();
    all.retain(|(k, _)| !unset.contains(k));
    all.extend_from_slice(set);
    let mut none: Vec<&str> = OPTIONAL.to_vec();
    none.retain(|k| !set.iter().any(|(s, _)| s == k));
    none.extend_from_slice(unset);
    assert_bad_setting(BIN, &all, &none, says);
}

#[test]
fn outside_lambda_it_fails_fast_with_a_clear_message() {
    assert_refuses_outside_lambda(BIN, &SETTINGS);
}

#[test]
fn each_missing_required_setting_is_named_at_start() {
    for (missing, _) in SETTINGS {
        bad_setting(
            &[],
            &[missing],
            &format!("bad configuration: {missing}: is not set"),
        );
    }
}

#[test]
fn a_bad_symbol_list_is_named_at_start() {
    bad_setting(
        &[("REPORT_SYMBOLS", "HSI,'; DROP TABLE bars")],
        &[],
        "REPORT_SYMBOLS: symbol \"'; DROP TABLE bars\" is not a ticker",
    );
}

#[test]
fn a_bad_topic_or_link_lifetime_is_named_at_start() {
    for (k, v, says) in [
        (
            "REPORTS_TOPIC_ARN",
            "stockstream-reports",
            "is not an SNS topic ARN",
        ),
        (
            "REPORT_LINK_DAYS",
            "a week",
            "is not a whole number of days",
        ),
    ] {
        bad_setting(
            &[(k, v)],
            &[],
            &format!("bad configuration: {k}: \"{v}\" {says}"),
        );
    }
}
