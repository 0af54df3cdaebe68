//! Settings from the environment, read once at start-up and validated there, so a
//! misconfigured function fails its first cold start with a message that names the variable
//! and what is wrong with it, instead of failing (or misplacing data) on every invocation.
//!
//! Each function's config type has a `from_env(get)` that takes the variable reader as a
//! closure (the process environment in `main`, a map in tests) and builds itself with the
//! readers of [`Env`].

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

/// A setting that is missing or wrong, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    /// `variable` is wrong: `problem`.
    pub fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        ConfigError {
            variable,
            problem: problem.into(),
        }
    }
}

/// Typed readers over an environment lookup.
pub struct Env<G> {
    get: G,
}

impl<G: Fn(&str) -> Option<String>> Env<G> {
    /// Reads through `get`.
    pub fn new(get: G) -> Self {
        Env { get }
    }

    /// The value as set, untrimmed (`None` when unset).
    pub fn raw(&self, variable: &str) -> Option<String> {
        (self.get)(variable)
    }

    /// The value trimmed; unset and blank are both `None` (a template that passes an empty
    /// parameter means "not set").
    pub fn value(&self, variable: &str) -> Option<String> {
        self.raw(variable)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// The value, or `default` when unset or blank.
    pub fn or(&self, variable: &str, default: &str) -> String {
        self.value(variable).unwrap_or_else(|| default.to_string())
    }

    /// The value, which must be set: otherwise "is not set; `hint`".
    pub fn required(&self, variable: &'static str, hint: &str) -> Result<String, ConfigError> {
        self.value(variable)
            .ok_or_else(|| ConfigError::new(variable, format!("is not set; {hint}")))
    }

    /// A number within `range`, or `default` when unset or blank; otherwise "VALUE is not
    /// `what` from LOW to HIGH".
    pub fn number<T>(
        &self,
        variable: &'static str,
        default: T,
        range: RangeInclusive<T>,
        what: &str,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        let Some(v) = self.value(variable) else {
            return Ok(default);
        };
        match v.parse::<T>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ConfigError::new(
                variable,
                format!(
                    "{v:?} is not {what} from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// Whole seconds within `range`, or `default` when unset or blank.
    pub fn seconds(
        &self,
        variable: &'static str,
        default: Duration,
        range: RangeInclusive<u64>,
    ) -> Result<Duration, ConfigError> {
        self.number(
            variable,
            default.as_secs(),
            range,
            "a whole number of seconds",
        )
        .map(Duration::from_secs)
    }

    /// A key prefix without leading or trailing slashes, `default` when unset; empty is an
    /// error (`why` says what it needs its own prefix for).
    pub fn prefix(
        &self,
        variable: &'static str,
        default: &str,
        why: &str,
    ) -> Result<String, ConfigError> {
        let p = self.raw(variable).unwrap_or_else(|| default.to_string());
        let p = p.trim().trim_matches('/').to_string();
        if p.is_empty() {
            return Err(ConfigError::new(variable, format!("is empty; {why}")));
        }
        Ok(p)
    }

    /// A bucket name: set, without slashes or spaces (paths belong in a prefix setting).
    pub fn bucket(
        &self,
        variable: &'static str,
        hint: &str,
        prefix_variable: &str,
    ) -> Result<String, ConfigError> {
        let bucket = self.required(variable, hint)?;
        if bucket.contains(['/', ' ']) {
            return Err(ConfigError::new(
                variable,
                format!(
                    "{bucket:?} is not a bucket name (no slashes or spaces; put paths in {prefix_variable})"
                ),
            ));
        }
        Ok(bucket)
    }
}

/// An environment lookup over pairs, for tests of every function's settings.
pub fn pairs(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| m.get(k).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_unset_and_values_are_trimmed() {
        let env = Env::new(pairs(&[("A", "  x  "), ("B", "   ")]));
        assert_eq!(env.value("A").as_deref(), Some("x"));
        assert_eq!(env.raw("A").as_deref(), Some("  x  "));
        assert_eq!(env.value("B"), None);
        assert_eq!(env.or("B", "d"), "d");
        assert_eq!(
            env.required("B", "name the thing").unwrap_err().to_string(),
            "B: is not set; name the thing"
        );
        assert_eq!(env.required("A", "").unwrap(), "x");
    }

    #[test]
    fn numbers_and_seconds_name_the_range() {
        let env = Env::new(pairs(&[("N", "12"), ("BIG", "901"), ("WORD", "ten")]));
        assert_eq!(env.number("N", 1u32, 1..=20, "a count").unwrap(), 12);
        assert_eq!(env.number("UNSET", 7u32, 1..=20, "a count").unwrap(), 7);
        assert_eq!(
            env.seconds("BIG", Duration::ZERO, 0..=900)
                .unwrap_err()
                .to_string(),
            "BIG: \"901\" is not a whole number of seconds from 0 to 900"
        );
        assert_eq!(
            env.seconds("WORD", Duration::ZERO, 0..=900)
                .unwrap_err()
                .variable,
            "WORD"
        );
        assert_eq!(
            env.seconds("UNSET", Duration::from_secs(5), 0..=900)
                .unwrap(),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn prefixes_and_buckets() {
        let env = Env::new(pairs(&[
            ("P", "/a/b/"),
            ("EMPTY", "//"),
            ("BUCKET", "b/c"),
            ("GOOD", "lake"),
        ]));
        assert_eq!(env.prefix("P", "x", "").unwrap(), "a/b");
        assert_eq!(env.prefix("UNSET", "/x/", "").unwrap(), "x");
        assert_eq!(
            env.prefix("EMPTY", "x", "the table needs its own prefix")
                .unwrap_err()
                .to_string(),
            "EMPTY: is empty; the table needs its own prefix"
        );
        assert_eq!(env.bucket("GOOD", "name it", "P").unwrap(), "lake");
        let e = env.bucket("BUCKET", "name it", "P").unwrap_err();
        assert!(e.problem.contains("put paths in P"), "{e}");
        assert_eq!(
            env.bucket("UNSET", "name the lake's bucket", "P")
                .unwrap_err()
                .to_string(),
            "UNSET: is not set; name the lake's bucket"
        );
    }
}
