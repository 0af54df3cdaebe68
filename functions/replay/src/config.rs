//! The replay function's settings, read once from the environment at start-up.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `KAFKA_BROKERS` | bootstrap servers, `host:port,…` (required) | — |
//! | `KAFKA_TOPIC` | topic the rows go to | `stock-bars` |
//! | `REPLAY_REJECTS_PREFIX` | prefix of the rejects objects (`<prefix>/<key>.rejects.jsonl`) | `rejects` |
//! | `REPLAY_STATE_PREFIX` | prefix of checkpoints and continuation objects | `replay` |
//! | `REPLAY_DEADLINE_SECONDS` | most seconds one invocation spends producing | `840` |

use std::time::Duration;

/// Everything the function needs besides its clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayConfig {
    /// Bootstrap servers.
    pub brokers: String,
    /// Topic.
    pub topic: String,
    /// Rejects prefix, without slashes at the ends.
    pub rejects_prefix: String,
    /// State prefix, without slashes at the ends.
    pub state_prefix: String,
    /// Producing time per invocation (the Lambda deadline, less a reserve, also applies).
    pub deadline: Duration,
}

/// A setting that is missing or wrong, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

fn prefix(
    variable: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<String, ConfigError> {
    let p = value.unwrap_or_else(|| default.to_string());
    let p = p.trim().trim_matches('/').to_string();
    if p.is_empty() {
        return Err(ConfigError {
            variable,
            problem: "is empty; it needs its own prefix, apart from the drop prefix".into(),
        });
    }
    Ok(p)
}

impl ReplayConfig {
    /// Reads the settings through `get` (the process environment in `main`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let brokers = get("KAFKA_BROKERS")
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty())
            .ok_or(ConfigError {
                variable: "KAFKA_BROKERS",
                problem: "is not set; give the bootstrap servers as host:port,host:port".into(),
            })?;
        let topic = get("KAFKA_TOPIC")
            .map(|t| t.trim().to_string())
            .unwrap_or_else(|| "stock-bars".into());
        if topic.is_empty() || topic.contains(|c: char| c.is_whitespace() || c == ',') {
            return Err(ConfigError {
                variable: "KAFKA_TOPIC",
                problem: format!("{topic:?} is not a topic name"),
            });
        }
        let rejects_prefix = prefix(
            "REPLAY_REJECTS_PREFIX",
            get("REPLAY_REJECTS_PREFIX"),
            "rejects",
        )?;
        let state_prefix = prefix("REPLAY_STATE_PREFIX", get("REPLAY_STATE_PREFIX"), "replay")?;
        let deadline = match get("REPLAY_DEADLINE_SECONDS") {
            None => Duration::from_secs(840),
            Some(s) => match s.trim().parse::<u64>() {
                Ok(n) if (1..=900).contains(&n) => Duration::from_secs(n),
                _ => {
                    return Err(ConfigError {
                        variable: "REPLAY_DEADLINE_SECONDS",
                        problem: format!("{s:?} is not a number of seconds from 1 to 900"),
                    })
                }
            },
        };
        Ok(ReplayConfig {
            brokers,
            topic,
            rejects_prefix,
            state_prefix,
            deadline,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn defaults_and_trimming() {
        let c = ReplayConfig::from_env(env(&[("KAFKA_BROKERS", " b1:9092,b2:9092 ")])).unwrap();
        assert_eq!(c.brokers, "b1:9092,b2:9092");
        assert_eq!(c.topic, "stock-bars");
        assert_eq!(c.rejects_prefix, "rejects");
        assert_eq!(c.state_prefix, "replay");
        assert_eq!(c.deadline, Duration::from_secs(840));
        let c = ReplayConfig::from_env(env(&[
            ("KAFKA_BROKERS", "b:9092"),
            ("REPLAY_REJECTS_PREFIX", "/bad/rows/"),
            ("REPLAY_DEADLINE_SECONDS", "60"),
        ]))
        .unwrap();
        assert_eq!(c.rejects_prefix, "bad/rows");
        assert_eq!(c.deadline, Duration::from_secs(60));
    }

    #[test]
    fn each_bad_setting_is_named() {
        let e = ReplayConfig::from_env(env(&[])).unwrap_err();
        assert_eq!(e.variable, "KAFKA_BROKERS");
        for (var, bad) in [
            ("KAFKA_TOPIC", "two words"),
            ("REPLAY_REJECTS_PREFIX", "//"),
            ("REPLAY_STATE_PREFIX", " "),
            ("REPLAY_DEADLINE_SECONDS", "0"),
            ("REPLAY_DEADLINE_SECONDS", "901"),
            ("REPLAY_DEADLINE_SECONDS", "ten"),
        ] {
            let e = ReplayConfig::from_env(env(&[("KAFKA_BROKERS", "b:9092"), (var, bad)]))
                .unwrap_err();
            assert_eq!(e.variable, var, "{bad}");
        }
    }
}
