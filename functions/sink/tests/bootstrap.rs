//! The Lambda binary outside Lambda: it says so and stops, instead of panicking; and a
//! misconfigured function names the setting at fault.

use std::process::Command;

#[test]
fn outside_lambda_it_fails_fast_with_a_clear_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_sink"))
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not running inside AWS Lambda"), "{err}");
}

#[test]
fn a_missing_bucket_is_named_at_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_sink"))
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env_remove("SINK_BUCKET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SINK_BUCKET: is not set"), "{err}");
}

#[test]
fn the_compaction_binary_also_stops_outside_lambda_and_names_a_missing_bucket() {
    let out = Command::new(env!("CARGO_BIN_EXE_compact"))
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not running inside AWS Lambda"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_compact"))
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env_remove("SINK_BUCKET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SINK_BUCKET: is not set"), "{err}");
}
