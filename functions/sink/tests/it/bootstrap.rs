//! The Lambda binaries (`sink`, `compact`) outside Lambda: each says so and stops, instead of
//! panicking; and a misconfigured function names the setting at fault. Then all five of the
//! workspace inside a Lambda Runtime API emulator, as deployed functions run them.

use std::path::Path;
use std::process::Command;
use stockstream_lambda::testing::{assert_bad_setting, assert_refuses_outside_lambda};

const BINARIES: [&str; 2] = [env!("CARGO_BIN_EXE_sink"), env!("CARGO_BIN_EXE_compact")];

#[test]
fn outside_lambda_it_fails_fast_with_a_clear_message() {
    for bin in BINARIES {
        assert_refuses_outside_lambda(bin, &[("SINK_BUCKET", "lake")]);
    }
}

#[test]
fn a_missing_bucket_is_named_at_start() {
    for bin in BINARIES {
        assert_bad_setting(bin, &[], &["SINK_BUCKET"], "SINK_BUCKET: is not set");
    }
}

/// Every function of template.yaml under `cargo lambda watch --only-lambda-apis` with the
/// environment the template gives it, against moto and Kafka: `functions/tests/runtime_api.py`
/// invokes each with its sample event from `events/`, a bad event and once more, checks the
/// results with clients of its own, and prints what it checked. It takes the other crates'
/// binaries from beside these two, where `cargo test --workspace` builds them (a missing or
/// stale one stops it, with what to build).
#[test]
#[ignore = "needs cargo-lambda, moto and Kafka (.ci/test)"]
fn every_function_serves_its_events_under_the_runtime_api() {
    let python = std::env::var("STOCKSTREAM_PYTHON").expect("STOCKSTREAM_PYTHON (set by .ci/test)");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_sink"))
        .parent()
        .expect("a binary lives in a folder");
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/runtime_api.py");
    let out = Command::new(python)
        .arg(driver)
        .arg("--bin-dir")
        .arg(bin_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "runtime_api.py {} (its output is above)",
        out.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("runtime-api: 5 functions, "), "{last}");
}
