//! The Kafka credentials and CA, read once at cold start from the Secrets Manager secrets the
//! sink's Kafka trigger uses, in the formats the trigger expects:
//! - `SASL_SCRAM_512_AUTH`: a JSON object `{"username": …, "password": …}`;
//! - `SERVER_ROOT_CA_CERTIFICATE`: `{"certificate": "-----BEGIN CERTIFICATE-----…"}` (a
//!   secret holding the bare PEM is taken too).
//!
//! The PEM goes to librdkafka as `ssl.ca.pem`, so nothing is written to disk. A secret that
//! cannot be read or parsed stops the cold start with an error naming its variable.

use crate::config::{KafkaAccess, SaslLogin, Security};
use serde::Deserialize;

/// A secret that could not be read or is not in the expected format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: secret {arn}: {problem}")]
pub struct SecretError {
    /// The environment variable that names the secret.
    pub variable: &'static str,
    /// The secret's ARN.
    pub arn: String,
    /// What went wrong (never the secret's value).
    pub problem: String,
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

/// The username and password of a SCRAM secret's text.
pub fn parse_login(text: &str) -> Result<(String, String), String> {
    let l: Login = serde_json::from_str(text).map_err(|e| {
        format!(
            "is not a JSON object {{\"username\", \"password\"}} (as the Kafka trigger expects): {}",
            position(&e)
        )
    })?;
    if l.username.is_empty() || l.password.is_empty() {
        return Err("has an empty username or password".into());
    }
    Ok((l.username, l.password))
}

/// Where a secret's JSON went wrong, without serde's message: that can quote the value.
fn position(e: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {} column {}",
        e.classify(),
        e.line(),
        e.column()
    )
}

#[derive(Deserialize)]
struct Certificate {
    certificate: String,
}

/// The PEM of a CA secret's text: `{"certificate": PEM}` or the bare PEM.
pub fn parse_ca(text: &str) -> Result<String, String> {
    let pem = if text.trim_start().starts_with('{') {
        serde_json::from_str::<Certificate>(text)
            .map_err(|e| {
                format!(
                    "is not a JSON object {{\"certificate\": PEM}} (as the Kafka trigger expects): {}",
                    position(&e)
                )
            })?
            .certificate
    } else {
        text.to_string()
    };
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(pem)
}

async fn read(
    client: &aws_sdk_secretsmanager::Client,
    variable: &'static str,
    arn: &str,
) -> Result<String, SecretError> {
    let fail = |problem: String| SecretError {
        variable,
        arn: arn.to_string(),
        problem,
    };
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            fail(format!(
                "cannot be read (the function needs secretsmanager:GetSecretValue on it, and a route to Secrets Manager): {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            ))
        })?;
    if let Some(s) = out.secret_string() {
        return Ok(s.to_string());
    }
    match out.secret_binary() {
        Some(b) => String::from_utf8(b.as_ref().to_vec())
            .map_err(|_| fail("holds binary data that is not UTF-8 text".into())),
        None => Err(fail("has no value".into())),
    }
}

/// Reads the secrets `security` names and returns what the producer client needs.
pub async fn fetch(
    client: &aws_sdk_secretsmanager::Client,
    security: &Security,
) -> Result<KafkaAccess, SecretError> {
    let mut access = KafkaAccess {
        protocol: Some(security.protocol.clone()),
        ..Default::default()
    };
    if let Some((mechanism, arn)) = &security.sasl {
        let text = read(client, "KAFKA_SASL_SECRET_ARN", arn).await?;
        let (username, password) = parse_login(&text).map_err(|problem| SecretError {
            variable: "KAFKA_SASL_SECRET_ARN",
            arn: arn.clone(),
            problem,
        })?;
        access.sasl = Some(SaslLogin {
            mechanism: mechanism.clone(),
            username,
            password,
        });
    }
    if let Some(arn) = &security.ca_secret_arn {
        let text = read(client, "KAFKA_CA_SECRET_ARN", arn).await?;
        access.ca_pem = Some(parse_ca(&text).map_err(|problem| SecretError {
            variable: "KAFKA_CA_SECRET_ARN",
            arn: arn.clone(),
            problem,
        })?);
    }
    Ok(access)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    #[test]
    fn the_triggers_formats_parse() {
        assert_eq!(
            parse_login(r#"{"username":"app","password":"p w"}"#).unwrap(),
            ("app".to_string(), "p w".to_string())
        );
        let json = serde_json::json!({ "certificate": PEM }).to_string();
        assert_eq!(parse_ca(&json).unwrap(), PEM);
        assert_eq!(parse_ca(PEM).unwrap(), PEM);
    }

    #[test]
    fn bad_secrets_say_why_without_their_value() {
        let e = parse_login(r#"{"user":"app","password":"hunter2"}"#).unwrap_err();
        assert!(e.contains("username") && !e.contains("hunter2"), "{e}");
        let e = parse_login("hunter2").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(parse_login(r#"{"username":"","password":"x"}"#)
            .unwrap_err()
            .contains("empty"));
        assert!(parse_ca(r#"{"cert": "x"}"#)
            .unwrap_err()
            .contains("certificate"));
        assert!(parse_ca("not a pem").unwrap_err().contains("no PEM"));
    }
}
