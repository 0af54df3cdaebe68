//! The sink's settings, read once from the environment at start-up and validated there, so a
//! misconfigured function fails its first cold start with a clear message instead of
//! misplacing data.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `SINK_BUCKET` | bucket of the lake (required) | — |
//! | `SINK_PREFIX` | key prefix of the bars table | `lake/bars` |
//! | `SINK_LAYOUT` | partition folders: `year` or `month` | `year` |
//! | `METRICS_NAMESPACE` | CloudWatch namespace of the metrics | `StockStream` |
//! | `SINK_STATE_NAMESPACE` | empty: state and objects keyed by topic and partition; a name (letters, digits, `.`, `_`, `-`): a new exactly-once state for a re-created topic or a new cluster, after an offset regression (docs/operations.md) | empty |

use crate::handler::{check_namespace, SinkConfig};
use crate::layout::Layout;
pub use stockstream_lambda::config::ConfigError;
use stockstream_lambda::config::Env;

/// Everything the Lambda needs besides its clients.
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    /// Bucket of the lake.
    pub bucket: String,
    /// Table layout and prefix.
    pub sink: SinkConfig,
    /// CloudWatch namespace.
    pub metrics_namespace: String,
}

impl LambdaConfig {
    /// Reads the settings through `get` (the process environment in `main`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(get);
        let bucket = env.bucket("SINK_BUCKET", "name the lake's bucket", "SINK_PREFIX")?;
        let prefix = env.prefix("SINK_PREFIX", "lake/bars", "the table needs its own prefix")?;
        let layout = match env.or("SINK_LAYOUT", "year").as_str() {
            "year" => Layout::Year,
            "month" => Layout::Month,
            other => {
                return Err(ConfigError::new(
                    "SINK_LAYOUT",
                    format!("{other:?} is not year or month"),
                ))
            }
        };
        let state_namespace = env.value("SINK_STATE_NAMESPACE");
        if let Some(n) = &state_namespace {
            check_namespace(n)
                .map_err(|problem| ConfigError::new("SINK_STATE_NAMESPACE", problem))?;
        }
        Ok(LambdaConfig {
            bucket,
            sink: SinkConfig {
                prefix,
                layout,
                known_symbols: None,
                state_namespace,
                regressions: Default::default(),
            },
            metrics_namespace: env.or("METRICS_NAMESPACE", "StockStream"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockstream_lambda::config::pairs as env;

    #[test]
    fn defaults_and_overrides() {
        let c = LambdaConfig::from_env(env(&[("SINK_BUCKET", "lake-bucket")])).unwrap();
        assert_eq!(
            (c.bucket.as_str(), c.sink.prefix.as_str()),
            ("lake-bucket", "lake/bars")
        );
        assert_eq!(c.sink.layout, Layout::Year);
        assert_eq!(c.metrics_namespace, "StockStream");
        assert_eq!(c.sink.state_namespace, None);
        let c = LambdaConfig::from_env(env(&[("SINK_BUCKET", "b"), ("SINK_STATE_NAMESPACE", " ")]))
            .unwrap();
        assert_eq!(
            c.sink.state_namespace, None,
            "empty is the default namespace"
        );
        let c = LambdaConfig::from_env(env(&[
            ("SINK_BUCKET", "b"),
            ("SINK_STATE_NAMESPACE", "cluster-2"),
        ]))
        .unwrap();
        assert_eq!(c.sink.state_namespace.as_deref(), Some("cluster-2"));
        assert_eq!(c.sink.stream_name("bars"), "cluster-2~bars");
        let c = LambdaConfig::from_env(env(&[
            ("SINK_BUCKET", "b"),
            ("SINK_PREFIX", "/x/y/"),
            ("SINK_LAYOUT", "month"),
        ]))
        .unwrap();
        assert_eq!(
            (c.sink.prefix.as_str(), c.sink.layout),
            ("x/y", Layout::Month)
        );
    }

    #[test]
    fn errors_name_the_variable() {
        let e = LambdaConfig::from_env(env(&[])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "SINK_BUCKET: is not set; name the lake's bucket"
        );
        let e = LambdaConfig::from_env(env(&[("SINK_BUCKET", "b/c")])).unwrap_err();
        assert_eq!(e.variable, "SINK_BUCKET");
        let e = LambdaConfig::from_env(env(&[("SINK_BUCKET", "b"), ("SINK_LAYOUT", "day")]))
            .unwrap_err();
        assert_eq!(e.to_string(), "SINK_LAYOUT: \"day\" is not year or month");
        let e =
            LambdaConfig::from_env(env(&[("SINK_BUCKET", "b"), ("SINK_PREFIX", "/")])).unwrap_err();
        assert_eq!(e.variable, "SINK_PREFIX");
        let e = LambdaConfig::from_env(env(&[
            ("SINK_BUCKET", "b"),
            ("SINK_STATE_NAMESPACE", "a/b"),
        ]))
        .unwrap_err();
        assert_eq!(e.variable, "SINK_STATE_NAMESPACE");
    }
}
