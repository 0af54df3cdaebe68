//! The Lambda binary outside Lambda: it says so and stops, instead of panicking; and a
//! misconfigured function names the setting at fault (a missing broker list, a secret given
//! by name where its ARN is needed).

use std::process::Command;

#[test]
fn outside_lambda_it_fails_fast_with_a_clear_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_replay"))
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not running inside AWS Lambda"), "{err}");
}

#[test]
fn missing_brokers_are_named_at_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_replay"))
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env_remove("KAFKA_BROKERS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("KAFKA_BROKERS: is not set"), "{err}");
}

#[test]
fn a_secret_that_is_not_an_arn_is_named_at_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_replay"))
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("KAFKA_BROKERS", "127.0.0.1:9096")
        .env("KAFKA_SASL_SECRET_ARN", "AmazonMSK_replay")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "KAFKA_SASL_SECRET_ARN: \"AmazonMSK_replay\" is not a Secrets Manager secret ARN"
        ),
        "{err}"
    );
}
