//! The S3 implementation of [`Store`]: create-if-absent is `PutObject` with
//! `If-None-Match: *`, compare-and-swap is `PutObject` with `If-Match: <etag>`; a failed
//! precondition (HTTP 412) is an answer, not an error. Throttling and 5xx responses are
//! retried with backoff by the SDK's standard retry policy (configured by the caller).

use crate::{Created, Etag, Store, StoreError};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

/// A bucket as the lake's store.
#[derive(Debug, Clone)]
pub struct S3 {
    client: Client,
    bucket: String,
}

impl S3 {
    /// Objects go to `bucket` through `client`.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3 {
            client,
            bucket: bucket.into(),
        }
    }
    /// The client, for requests the [`Store`] trait has no verb for (the compaction lock).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The Lambdas' store: the function's SDK configuration, and up to five attempts for
    /// throttling and 5xx responses.
    pub fn from_sdk(aws: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        S3::new(crate::client::s3(aws, None), bucket)
    }
}

fn status<E, R: HttpStatus>(e: &SdkError<E, R>) -> Option<u16> {
    e.raw_response().map(HttpStatus::status_code)
}

/// The HTTP status of a raw response (a seam for the SDK's response type).
pub trait HttpStatus {
    /// The status code.
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// A failed request as a [`StoreError`], with the HTTP status when there was a response.
pub fn failed<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug + HttpStatus>(
    key: &str,
    e: SdkError<E, R>,
) -> StoreError {
    let detail = match status(&e) {
        Some(code) => format!(
            "HTTP {code}: {}",
            aws_sdk_s3::error::DisplayErrorContext(&e)
        ),
        None => aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
    };
    StoreError::Remote {
        key: key.to_string(),
        detail,
    }
}

impl Store for S3 {
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, Etag)>, StoreError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(failed(key, e)),
        };
        let tag = Etag(out.e_tag().unwrap_or_default().to_string());
        let bytes = out.body.collect().await.map_err(|e| StoreError::Remote {
            key: key.to_string(),
            detail: format!("reading body: {e}"),
        })?;
        Ok(Some((bytes.into_bytes().to_vec(), tag)))
    }

    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Created, StoreError> {
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await;
        match put {
            Ok(_) => Ok(Created::Yes),
            Err(e) if status(&e) == Some(412) => Ok(Created::AlreadyExists),
            Err(e) => Err(failed(key, e)),
        }
    }

    async fn put_if_match(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&Etag>,
    ) -> Result<bool, StoreError> {
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes.to_vec()));
        put = match expected {
            Some(tag) => put.if_match(tag.0.clone()),
            None => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            // 412: the object has another version (or exists, for `If-None-Match`); 404 with
            // `If-Match`: it has none any more. Either way not the version we read.
            Err(e) if status(&e) == Some(412) => Ok(false),
            Err(e) if status(&e) == Some(404) && expected.is_some() => Ok(false),
            Err(e) => Err(failed(key, e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = vec![];
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(prefix, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
        }
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        // S3 answers 204 whether or not the key existed.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| failed(key, e))?;
        Ok(())
    }
}
