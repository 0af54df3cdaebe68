//! The Lambda binaries (`sink`, `compact`) outside Lambda: each says so and stops, instead of
//! panicking; and a misconfigured function names the setting at fault.

use std::process::Command;

const BINARIES: [&str; 2] = [env!("CARGO_BIN_EXE_sink"), env!("CARGO_BIN_EXE_compact")];

/// Runs `bin` with the runtime API set or not and without `SINK_BUCKET`: exit code and stderr.
fn start(bin: &str, in_lambda: bool) -> (Option<i32>, String) {
    let mut c = Command::new(bin);
    c.env_remove("SINK_BUCKET");
    if in_lambda {
        c.env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9");
    } else {
        c.env_remove("AWS_LAMBDA_RUNTIME_API");
    }
    let out = c.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn outside_lambda_it_fails_fast_with_a_clear_message() {
    for bin in BINARIES {
        let (code, err) = start(bin, false);
        assert_eq!(code, Some(2), "{bin}");
        assert!(
            err.contains("not running inside AWS Lambda"),
            "{bin}: {err}"
        );
    }
}

#[test]
fn a_missing_bucket_is_named_at_start() {
    for bin in BINARIES {
        let (code, err) = start(bin, true);
        assert_eq!(code, Some(2), "{bin}");
        assert!(err.contains("SINK_BUCKET: is not set"), "{bin}: {err}");
    }
}
