//! The crawler's settings, read once from the environment at start-up and validated there, so
//! a misconfigured function fails its first cold start with a clear message.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `CRAWLER_NAME` | the Glue crawler to start (required) | — |
//! | `CRAWLER_WAIT_SECONDS` | wait up to this long for the crawl to finish; 0 = don't wait | `0` |
//! | `GLUE_DATABASE` | after a finished crawl, list this database's tables and partitions | — |

use std::time::Duration;
pub use stockstream_lambda::config::ConfigError;
use stockstream_lambda::config::Env;

/// Everything the handler needs besides its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlerConfig {
    /// Name of the Glue crawler.
    pub crawler_name: String,
    /// How long to wait for the crawl; zero returns right after starting it.
    pub wait: Duration,
    /// Database whose tables are reported after the crawl.
    pub database: Option<String>,
}

/// Longest wait accepted: Lambda's own limit (15 min); more is certainly a typo.
const MAX_WAIT_SECONDS: u64 = 900;

impl CrawlerConfig {
    /// Reads the settings through `get` (the process environment in `main`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(get);
        let crawler_name = env.required("CRAWLER_NAME", "name the Glue crawler to start")?;
        // Glue's own rule for names: 1–255 characters, single line.
        if crawler_name.len() > 255 || crawler_name.contains(['\n', '\r', '\t']) {
            return Err(ConfigError::new(
                "CRAWLER_NAME",
                format!("{crawler_name:?} is not a Glue crawler name (1–255 characters, one line)"),
            ));
        }
        Ok(CrawlerConfig {
            crawler_name,
            wait: env.seconds("CRAWLER_WAIT_SECONDS", Duration::ZERO, 0..=MAX_WAIT_SECONDS)?,
            database: env.value("GLUE_DATABASE"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockstream_lambda::config::pairs as env;

    #[test]
    fn defaults_and_overrides() {
        let c = CrawlerConfig::from_env(env(&[("CRAWLER_NAME", " lake-crawler ")])).unwrap();
        assert_eq!(
            c,
            CrawlerConfig {
                crawler_name: "lake-crawler".into(),
                wait: Duration::ZERO,
                database: None,
            }
        );
        let c = CrawlerConfig::from_env(env(&[
            ("CRAWLER_NAME", "c"),
            ("CRAWLER_WAIT_SECONDS", "600"),
            ("GLUE_DATABASE", "stockstream"),
        ]))
        .unwrap();
        assert_eq!(c.wait, Duration::from_secs(600));
        assert_eq!(c.database.as_deref(), Some("stockstream"));
    }

    #[test]
    fn errors_name_the_variable() {
        let e = CrawlerConfig::from_env(env(&[])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "CRAWLER_NAME: is not set; name the Glue crawler to start"
        );
        let e = CrawlerConfig::from_env(env(&[("CRAWLER_NAME", "  ")])).unwrap_err();
        assert_eq!(e.variable, "CRAWLER_NAME");
        for bad in ["-1", "ten", "901", "1.5"] {
            let e = CrawlerConfig::from_env(env(&[
                ("CRAWLER_NAME", "c"),
                ("CRAWLER_WAIT_SECONDS", bad),
            ]))
            .unwrap_err();
            assert_eq!(e.variable, "CRAWLER_WAIT_SECONDS", "{bad}");
            assert!(e.problem.contains(bad), "{e}");
        }
    }
}
