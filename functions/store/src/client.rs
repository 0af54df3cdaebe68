//! The one way StockStream builds S3 clients, so every function and the local runner share
//! one retry policy and one answer to "where is the bucket".
//!
//! - On AWS (the functions): the function's SDK configuration (region, credentials from the
//!   execution role), [`ATTEMPTS`] attempts for throttling and 5xx answers.
//! - With an endpoint (moto, MinIO, another S3-compatible server): the same, plus path-style
//!   addressing (such servers serve buckets as paths, not as host names), and `us-east-1`
//!   when no region is configured.

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::Region;

/// Attempts per S3 request (the first and four retries, with the SDK's standard backoff):
/// enough to ride out throttling (503 SlowDown) without hiding an outage for long.
pub const ATTEMPTS: u32 = 5;

/// An S3 client from `aws`, with `endpoint` when given (moto, MinIO).
pub fn s3(aws: &aws_config::SdkConfig, endpoint: Option<&str>) -> aws_sdk_s3::Client {
    let mut conf = aws_sdk_s3::config::Builder::from(aws)
        .retry_config(RetryConfig::standard().with_max_attempts(ATTEMPTS));
    if aws.region().is_none() {
        conf = conf.region(Region::new("us-east-1"));
    }
    if let Some(e) = endpoint {
        conf = conf.endpoint_url(e).force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(conf.build())
}

/// An S3 client from the environment's credentials and region (the local runner's), with
/// `endpoint` when given.
pub async fn from_env(endpoint: Option<&str>) -> aws_sdk_s3::Client {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    s3(&aws, endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_means_path_style_and_a_default_region() {
        let aws = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let c = s3(&aws, Some("http://127.0.0.1:9"));
        let conf = c.config();
        assert_eq!(conf.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(
            conf.retry_config().map(|r| r.max_attempts()),
            Some(ATTEMPTS)
        );
        let aws = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .build();
        let conf = s3(&aws, None).config().clone();
        assert_eq!(conf.region().map(|r| r.as_ref()), Some("eu-west-1"));
    }
}
