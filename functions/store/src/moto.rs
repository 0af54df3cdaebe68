//! For test suites (feature `test-support`): the SDK configuration that reaches the moto
//! server `.ci/test` starts (`STOCKSTREAM_TEST_S3_ENDPOINT`; S3, Glue, Athena and SNS on one
//! port), an S3 client for it, and names no other test of the run uses.

use aws_sdk_s3::config::{Credentials, Region, SharedCredentialsProvider};

/// The moto server's URL; panics with how to start it when unset (the moto tests are
/// `#[ignore]`d, so only `.ci/test` runs them, with the server up).
pub fn endpoint() -> String {
    std::env::var("STOCKSTREAM_TEST_S3_ENDPOINT")
        .expect("STOCKSTREAM_TEST_S3_ENDPOINT is not set: run with .ci/test (it starts moto)")
}

/// SDK configuration for moto in `region`: its endpoint and dummy credentials. Build any
/// service's client from it (`aws_sdk_glue::Client::new(&moto::sdk("us-east-1"))`).
pub fn sdk(region: &'static str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "moto",
        )))
        .build()
}

/// An S3 client for moto, built like every other ([`crate::client::s3`]).
pub fn s3() -> aws_sdk_s3::Client {
    crate::client::s3(&sdk("us-east-1"), Some(&endpoint()))
}

/// A name no other test of this run uses (the clock alone can repeat between threads).
pub fn unique(name: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{name}-{nanos}-{n}")
}

/// A new bucket on moto, named from `name` ([`unique`]).
pub async fn bucket(client: &aws_sdk_s3::Client, name: &str) -> String {
    let b = unique(name);
    client
        .create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("moto creates buckets");
    b
}
