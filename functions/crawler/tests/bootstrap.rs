//! The Lambda binary outside Lambda: it says so and stops, instead of panicking; and a
//! misconfigured function names the setting at fault.

use std::process::Command;

#[test]
fn outside_lambda_it_fails_fast_with_a_clear_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_crawler"))
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("CRAWLER_NAME", "stockstream-lake")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not running inside AWS Lambda"), "{err}");
}

#[test]
fn a_missing_crawler_name_is_named_at_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_crawler"))
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env_remove("CRAWLER_NAME")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CRAWLER_NAME: is not set"), "{err}");
}

#[test]
fn a_bad_wait_is_named_at_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_crawler"))
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("CRAWLER_NAME", "stockstream-lake")
        .env("CRAWLER_WAIT_SECONDS", "soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CRAWLER_WAIT_SECONDS: \"soon\""), "{err}");
}
