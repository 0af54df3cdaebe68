//! For the functions' test suites (feature `test-support`): start a built Lambda binary the
//! way the bootstrap tests do, and read the sample events of `events/`.

use std::process::Command;

/// Runs `bin` with `set` and without `unset`, inside Lambda (a Runtime API address nothing
/// serves, so only the start is exercised: a bad setting exits before any request) or
/// outside; returns its exit code and standard error.
pub fn start(
    bin: &str,
    in_lambda: bool,
    set: &[(&str, &str)],
    unset: &[&str],
) -> (Option<i32>, String) {
    let mut c = Command::new(bin);
    if in_lambda {
        c.env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9");
    } else {
        c.env_remove("AWS_LAMBDA_RUNTIME_API");
    }
    for k in unset {
        c.env_remove(k);
    }
    c.envs(set.iter().copied());
    let out = c.output().unwrap_or_else(|e| panic!("{bin}: {e}"));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Checks that `bin`, started outside Lambda with valid settings `set`, exits 2 with the
/// guard's sentence ([`crate::start::NOT_IN_LAMBDA`]).
pub fn assert_refuses_outside_lambda(bin: &str, set: &[(&str, &str)]) {
    let (code, err) = start(bin, false, set, &[]);
    assert_eq!(code, Some(2), "{bin}: {err}");
    assert!(err.contains(crate::start::NOT_IN_LAMBDA), "{bin}: {err}");
}

/// Checks that `bin`, started inside Lambda with `set` and without `unset`, exits 2 with a
/// message containing `says` (the variable at fault and what is wrong).
pub fn assert_bad_setting(bin: &str, set: &[(&str, &str)], unset: &[&str], says: &str) {
    let (code, err) = start(bin, true, set, unset);
    assert_eq!(code, Some(2), "{bin}: {err}");
    assert!(err.contains("bad configuration"), "{bin}: {err}");
    assert!(err.contains(says), "{bin}: expected {says:?} in {err}");
}

/// The sample event `events/NAME.json` of the repository, parsed.
pub fn sample_event<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = format!("{}/../../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}
