//! The Lambda binary outside Lambda: it says so and stops, instead of panicking; and a
//! misconfigured function names the setting at fault.

use std::process::Command;

const SETTINGS: [(&str, &str); 3] = [
    ("ATHENA_WORKGROUP", "stockstream"),
    ("ATHENA_DATABASE", "stockstream_lake"),
    ("REPORT_BUCKET", "stockstream-reports"),
];

fn insights() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_insights"));
    c.envs(SETTINGS);
    for k in [
        "ATHENA_OUTPUT",
        "REPORT_PREFIX",
        "REPORT_DAYS",
        "REPORT_SYMBOLS",
        "INSIGHT_DEADLINE_SECONDS",
        "REPORTS_TOPIC_ARN",
        "REPORT_LINK_DAYS",
    ] {
        c.env_remove(k);
    }
    c
}

#[test]
fn outside_lambda_it_fails_fast_with_a_clear_message() {
    let out = insights()
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not running inside AWS Lambda"), "{err}");
}

#[test]
fn each_missing_required_setting_is_named_at_start() {
    for (missing, _) in SETTINGS {
        let out = insights()
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
            .env_remove(missing)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{missing}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("bad configuration: {missing}: is not set")),
            "{err}"
        );
    }
}

#[test]
fn a_bad_symbol_list_is_named_at_start() {
    let out = insights()
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("REPORT_SYMBOLS", "HSI,'; DROP TABLE bars")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("REPORT_SYMBOLS: symbol \"'; DROP TABLE bars\" is not a ticker"),
        "{err}"
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
        let out = insights()
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
            .env(k, v)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{k}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("bad configuration: {k}: \"{v}\" {says}")),
            "{err}"
        );
    }
}
