//! The Lambda binary outside Lambda: it says so and stops, instead of panicking; and a
//! misconfigured function names the setting at fault (a missing broker list, a secret given
//! by name where its ARN is needed).

use stockstream_lambda::testing::{assert_bad_setting, assert_refuses_outside_lambda};

const BIN: &str = env!("CARGO_BIN_EXE_replay");
const BROKERS: (&str, &str) = ("KAFKA_BROKERS", "127.0.0.1:9096");

#[test]
fn outside_lambda_it_fails_fast_with_a_clear_message() {
    assert_refuses_outside_lambda(BIN, &[BROKERS]);
}

#[test]
fn missing_brokers_are_named_at_start() {
    assert_bad_setting(BIN, &[], &["KAFKA_BROKERS"], "KAFKA_BROKERS: is not set");
}

#[test]
fn a_secret_that_is_not_an_arn_is_named_at_start() {
    let secret = ("KAFKA_SASL_SECRET_ARN", "AmazonMSK_replay");
    assert_bad_setting(
        BIN,
        &[BROKERS, secret],
        &[],
        "KAFKA_SASL_SECRET_ARN: \"AmazonMSK_replay\" is not a Secrets Manager secret ARN",
    );
}
