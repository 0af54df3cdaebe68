//! The replay function's settings, read once from the environment at start-up.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `KAFKA_BROKERS` | bootstrap servers, `host:port,…` (required) | — |
//! | `KAFKA_TOPIC` | topic the rows go to | `stock-bars` |
//! | `REPLAY_REJECTS_PREFIX` | prefix of the rejects objects (`<prefix>/<key>.rejects.jsonl`) | `rejects` |
//! | `REPLAY_STATE_PREFIX` | prefix of checkpoints and continuation objects | `replay` |
//! | `REPLAY_DEADLINE_SECONDS` | most seconds one invocation spends producing | `840` |
//! | `KAFKA_SECURITY_PROTOCOL` | `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL` | `SASL_SSL` with a SASL secret, `SSL` with only a CA, else `PLAINTEXT` |
//! | `KAFKA_SASL_MECHANISM` | `SCRAM-SHA-512`, `SCRAM-SHA-256` or `PLAIN` (needs the SASL secret) | `SCRAM-SHA-512` |
//! | `KAFKA_SASL_SECRET_ARN` | Secrets Manager secret `{"username","password"}`, the one the Kafka trigger uses | none |
//! | `KAFKA_CA_SECRET_ARN` | Secrets Manager secret with the brokers' root CA (PEM, or `{"certificate": PEM}` as the trigger's `SERVER_ROOT_CA_CERTIFICATE`) | none: the system's CAs |
//!
//! An empty variable counts as unset (the template passes an empty parameter through). The
//! secrets themselves are read once, at cold start ([`crate::secrets`]).

use std::time::Duration;
pub use stockstream_lambda::config::ConfigError;
use stockstream_lambda::config::Env;

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
    /// How to reach the brokers: protocol, and which secrets hold the credentials and CA.
    pub security: Security,
    /// The credentials and CA themselves: none from [`ReplayConfig::from_env`]; filled at
    /// cold start by [`crate::secrets::fetch`].
    pub access: KafkaAccess,
}

/// Kafka security settings, checked: SASL always has its secret, and a secret is never
/// configured where the protocol would ignore it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// librdkafka's `security.protocol`.
    pub protocol: String,
    /// The SASL mechanism and the ARN of the secret with its username and password.
    pub sasl: Option<(String, String)>,
    /// ARN of the secret with the root CA.
    pub ca_secret_arn: Option<String>,
}

/// What the producer client is given: the protocol, SASL credentials and CA (PEM). Its
/// `Debug` leaves the password out.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KafkaAccess {
    /// librdkafka's `security.protocol` (none: librdkafka's default, `PLAINTEXT`).
    pub protocol: Option<String>,
    /// SASL mechanism, username and password.
    pub sasl: Option<SaslLogin>,
    /// Root CA certificate(s), PEM (librdkafka's `ssl.ca.pem`).
    pub ca_pem: Option<String>,
}

/// SASL login.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslLogin {
    /// `SCRAM-SHA-512`, …
    pub mechanism: String,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for SaslLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslLogin")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl std::fmt::Debug for KafkaAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaAccess")
            .field("protocol", &self.protocol)
            .field("sasl", &self.sasl)
            .field(
                "ca_pem",
                &self.ca_pem.as_ref().map(|p| format!("{} bytes", p.len())),
            )
            .finish()
    }
}

const PROTOCOLS: [&str; 4] = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];
const MECHANISMS: [&str; 3] = ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"];

/// A Secrets Manager ARN (`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`), as the
/// trigger's SourceAccessConfigurations take it.
fn secret_arn(
    variable: &'static str,
    value: Option<String>,
) -> Result<Option<String>, ConfigError> {
    let Some(v) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let parts: Vec<&str> = v.splitn(7, ':').collect();
    if parts.len() == 7 && parts[0] == "arn" && parts[2] == "secretsmanager" && parts[5] == "secret"
    {
        Ok(Some(v))
    } else {
        Err(ConfigError {
            variable,
            problem: format!(
                "{v:?} is not a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)"
            ),
        })
    }
}

impl Security {
    fn from_env(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let sasl_arn = secret_arn("KAFKA_SASL_SECRET_ARN", get("KAFKA_SASL_SECRET_ARN"))?;
        let ca_secret_arn = secret_arn("KAFKA_CA_SECRET_ARN", get("KAFKA_CA_SECRET_ARN"))?;
        let protocol = match set("KAFKA_SECURITY_PROTOCOL") {
            Some(p) => {
                let up = p.to_ascii_uppercase();
                if !PROTOCOLS.contains(&up.as_str()) {
                    return Err(ConfigError::new(
                        "KAFKA_SECURITY_PROTOCOL",
                        format!("{p:?} is not one of {}", PROTOCOLS.join(", ")),
                    ));
                }
                up
            }
            None if sasl_arn.is_some() => "SASL_SSL".into(),
            None if ca_secret_arn.is_some() => "SSL".into(),
            None => "PLAINTEXT".into(),
        };
        let uses_sasl = protocol.starts_with("SASL_");
        let mechanism = set("KAFKA_SASL_MECHANISM").map(|m| m.to_ascii_uppercase());
        if let Some(m) = &mechanism {
            if !MECHANISMS.contains(&m.as_str()) {
                return Err(ConfigError::new(
                    "KAFKA_SASL_MECHANISM",
                    format!("{m:?} is not one of {}", MECHANISMS.join(", ")),
                ));
            }
        }
        let sasl = match (uses_sasl, sasl_arn) {
            (true, Some(arn)) => Some((mechanism.unwrap_or_else(|| "SCRAM-SHA-512".into()), arn)),
            (true, None) => {
                return Err(ConfigError::new(
                    "KAFKA_SASL_SECRET_ARN",
                    format!(
                        "is not set, but KAFKA_SECURITY_PROTOCOL is {protocol}; give the secret with the username and password"
                    ),
                ))
            }
            (false, Some(_)) => {
                return Err(ConfigError::new(
                    "KAFKA_SECURITY_PROTOCOL",
                    format!(
                        "is {protocol}, which sends no credentials, but KAFKA_SASL_SECRET_ARN is set; use SASL_SSL"
                    ),
                ))
            }
            (false, None) => {
                if mechanism.is_some() {
                    return Err(ConfigError::new(
                        "KAFKA_SASL_MECHANISM",
                        format!("is set, but KAFKA_SECURITY_PROTOCOL is {protocol}, not SASL"),
                    ));
                }
                None
            }
        };
        if ca_secret_arn.is_some() && !protocol.ends_with("SSL") {
            return Err(ConfigError::new(
                "KAFKA_CA_SECRET_ARN",
                format!("is set, but KAFKA_SECURITY_PROTOCOL is {protocol}, without TLS"),
            ));
        }
        Ok(Security {
            protocol,
            sasl,
            ca_secret_arn,
        })
    }
}

impl ReplayConfig {
    /// Reads the settings through `get` (the process environment in `main`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let brokers = Env::new(&get).required(
            "KAFKA_BROKERS",
            "give the bootstrap servers as host:port,host:port",
        )?;
        let topic = get("KAFKA_TOPIC")
            .map(|t| t.trim().to_string())
            .unwrap_or_else(|| "stock-bars".into());
        if topic.is_empty() || topic.contains(|c: char| c.is_whitespace() || c == ',') {
            return Err(ConfigError::new(
                "KAFKA_TOPIC",
                format!("{topic:?} is not a topic name"),
            ));
        }
        let env = Env::new(&get);
        const OWN: &str = "it needs its own prefix, apart from the drop prefix";
        let rejects_prefix = env.prefix("REPLAY_REJECTS_PREFIX", "rejects", OWN)?;
        let state_prefix = env.prefix("REPLAY_STATE_PREFIX", "replay", OWN)?;
        let deadline = env.seconds("REPLAY_DEADLINE_SECONDS", Duration::from_secs(840), 1..=900)?;
        let security = Security::from_env(&get)?;
        let access = KafkaAccess {
            protocol: Some(security.protocol.clone()),
            ..Default::default()
        };
        Ok(ReplayConfig {
            brokers,
            topic,
            rejects_prefix,
            state_prefix,
            deadline,
            security,
            access,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockstream_lambda::config::pairs as env;

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

    const SASL: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_app-AbCdEf";
    const CA: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-ca-XyZ123";

    #[test]
    fn security_follows_the_secrets_given() {
        let c = ReplayConfig::from_env(env(&[("KAFKA_BROKERS", "b:9096")])).unwrap();
        assert_eq!(c.security.protocol, "PLAINTEXT");
        assert_eq!((c.security.sasl, c.security.ca_secret_arn), (None, None));
        // The template passes empty parameters through as empty variables.
        let c = ReplayConfig::from_env(env(&[
            ("KAFKA_BROKERS", "b:9096"),
            ("KAFKA_SASL_SECRET_ARN", SASL),
            ("KAFKA_CA_SECRET_ARN", ""),
            ("KAFKA_SASL_MECHANISM", ""),
        ]))
        .unwrap();
        assert_eq!(c.security.protocol, "SASL_SSL");
        assert_eq!(
            c.security.sasl,
            Some(("SCRAM-SHA-512".to_string(), SASL.to_string()))
        );
        assert_eq!(c.access.protocol.as_deref(), Some("SASL_SSL"));
        let c = ReplayConfig::from_env(env(&[
            ("KAFKA_BROKERS", "b:9096"),
            ("KAFKA_CA_SECRET_ARN", CA),
        ]))
        .unwrap();
        assert_eq!(c.security.protocol, "SSL");
        assert_eq!(c.security.ca_secret_arn.as_deref(), Some(CA));
        let c = ReplayConfig::from_env(env(&[
            ("KAFKA_BROKERS", "b:9096"),
            ("KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
            ("KAFKA_SASL_MECHANISM", "scram-sha-256"),
            ("KAFKA_SASL_SECRET_ARN", SASL),
            ("KAFKA_CA_SECRET_ARN", CA),
        ]))
        .unwrap();
        assert_eq!(
            c.security.sasl,
            Some(("SCRAM-SHA-256".to_string(), SASL.to_string()))
        );
    }

    #[test]
    fn inconsistent_security_is_named() {
        for (pairs, var, says) in [
            (
                vec![("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")],
                "KAFKA_SASL_SECRET_ARN",
                "is not set",
            ),
            (
                vec![
                    ("KAFKA_SECURITY_PROTOCOL", "SSL"),
                    ("KAFKA_SASL_SECRET_ARN", SASL),
                ],
                "KAFKA_SECURITY_PROTOCOL",
                "sends no credentials",
            ),
            (
                vec![("KAFKA_SECURITY_PROTOCOL", "TLS")],
                "KAFKA_SECURITY_PROTOCOL",
                "is not one of",
            ),
            (
                vec![
                    ("KAFKA_SASL_SECRET_ARN", SASL),
                    ("KAFKA_SASL_MECHANISM", "GSSAPI"),
                ],
                "KAFKA_SASL_MECHANISM",
                "is not one of",
            ),
            (
                vec![("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")],
                "KAFKA_SASL_MECHANISM",
                "not SASL",
            ),
            (
                vec![("KAFKA_SASL_SECRET_ARN", "AmazonMSK_app")],
                "KAFKA_SASL_SECRET_ARN",
                "is not a Secrets Manager secret ARN",
            ),
            (
                vec![
                    ("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
                    ("KAFKA_CA_SECRET_ARN", CA),
                ],
                "KAFKA_CA_SECRET_ARN",
                "without TLS",
            ),
        ] {
            let mut all = vec![("KAFKA_BROKERS", "b:9096")];
            all.extend(pairs);
            let e = ReplayConfig::from_env(env(&all)).unwrap_err();
            assert_eq!(e.variable, var, "{e}");
            assert!(e.to_string().contains(says), "{e}");
        }
    }

    #[test]
    fn the_password_stays_out_of_debug_output() {
        let a = KafkaAccess {
            protocol: Some("SASL_SSL".into()),
            sasl: Some(SaslLogin {
                mechanism: "SCRAM-SHA-512".into(),
                username: "app".into(),
                password: "hunter2".into(),
            }),
            ca_pem: None,
        };
        let text = format!("{a:?}");
        assert!(text.contains("app") && !text.contains("hunter2"), "{text}");
    }
}
