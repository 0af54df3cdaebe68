//! What invokes the replay function: an S3 notification (`ObjectCreated` records for CSV
//! files under the drop prefix, or for the function's own continuation objects), decoded to
//! the objects to replay.
//!
//! S3 URL-encodes object keys in notifications (`+` for a space, `%XX` for other bytes);
//! [`decode_key`] undoes it, so `drop/my+file%281%29.csv` is the object `drop/my file(1).csv`.

use serde::Deserialize;

/// An S3 event notification (the fields the function uses).
#[derive(Debug, Clone, Deserialize)]
pub struct S3Event {
    /// The records; S3 sends one per object, but the format allows several.
    #[serde(rename = "Records", default)]
    pub records: Vec<S3Record>,
}

/// One record of an S3 notification.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Record {
    /// e.g. `ObjectCreated:Put`.
    #[serde(default)]
    pub event_name: String,
    /// Bucket and object.
    pub s3: S3Entity,
}

/// The `s3` part of a record.
#[derive(Debug, Clone, Deserialize)]
pub struct S3Entity {
    /// Bucket.
    pub bucket: S3Bucket,
    /// Object.
    pub object: S3Object,
}

/// A bucket.
#[derive(Debug, Clone, Deserialize)]
pub struct S3Bucket {
    /// Its name.
    pub name: String,
}

/// An object.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Object {
    /// The URL-encoded key.
    pub key: String,
    /// Size in bytes (absent for deletions).
    #[serde(default)]
    pub size: Option<u64>,
    /// ETag.
    #[serde(default)]
    pub e_tag: Option<String>,
}

/// A key that is not valid URL encoding, or not UTF-8 once decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("object key {key:?} is not valid URL encoding: {why}")]
pub struct BadKey {
    /// The key as received.
    pub key: String,
    /// What is wrong.
    pub why: &'static str,
}

/// Decodes an S3 notification key (form encoding: `+` is a space, `%XX` a byte).
pub fn decode_key(key: &str) -> Result<String, BadKey> {
    let bad = |why| BadKey {
        key: key.to_string(),
        why,
    };
    let b = key.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3).ok_or_else(|| bad("% at the end"))?;
                let s = std::str::from_utf8(hex)
                    .map_err(|_| bad("% not followed by two hex digits"))?;
                let v = u8::from_str_radix(s, 16)
                    .map_err(|_| bad("% not followed by two hex digits"))?;
                out.push(v);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad("not UTF-8 once decoded"))
}

/// An object the function was asked to work on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// A dropped CSV file to replay.
    Replay {
        /// Bucket.
        bucket: String,
        /// Decoded key.
        key: String,
    },
    /// A continuation object the function wrote itself: read it to find the CSV to resume.
    Continue {
        /// Bucket.
        bucket: String,
        /// Decoded key of the continuation object.
        key: String,
    },
    /// A record the function does not act on (a deletion, another suffix), with the reason.
    Skip {
        /// `s3://bucket/key`.
        object: String,
        /// Why.
        why: String,
    },
}

/// The jobs of an event, in order. `continue_prefix` is where continuation objects live.
pub fn jobs(event: &S3Event, continue_prefix: &str) -> Result<Vec<Job>, BadKey> {
    event
        .records
        .iter()
        .map(|r| {
            let bucket = r.s3.bucket.name.clone();
            let key = decode_key(&r.s3.object.key)?;
            let object = format!("s3://{bucket}/{key}");
            Ok(if !r.event_name.starts_with("ObjectCreated") {
                Job::Skip {
                    object,
                    why: format!("event {} is not ObjectCreated", r.event_name),
                }
            } else if key.starts_with(&format!("{continue_prefix}/")) && key.ends_with(".json") {
                Job::Continue { bucket, key }
            } else if key.to_ascii_lowercase().ends_with(".csv") {
                Job::Replay { bucket, key }
            } else {
                Job::Skip {
                    object,
                    why: "not a .csv file".into(),
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_form_decoded() {
        assert_eq!(
            decode_key("drop/my+file%281%29.csv").unwrap(),
            "drop/my file(1).csv"
        );
        assert_eq!(
            decode_key("drop/%C3%A9t%C3%A9.csv").unwrap(),
            "drop/été.csv"
        );
        assert_eq!(decode_key("drop/a%2Bb.csv").unwrap(), "drop/a+b.csv");
        assert!(decode_key("drop/100%").is_err());
        assert!(decode_key("drop/%zz.csv").is_err());
        assert!(decode_key("drop/%FF.csv").is_err());
    }

    #[test]
    fn the_aws_sample_put_event_parses() {
        let text = std::fs::read_to_string(format!(
            "{}/../../events/replay-s3-put.json",
            std::env::var("CARGO_MANIFEST_DIR")
                .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests")
        ))
        .unwrap();
        let e: S3Event = serde_json::from_str(&text).unwrap();
        let jobs = jobs(&e, "replay/continue").unwrap();
        assert_eq!(jobs.len(), 3);
        assert_eq!(
            jobs[0],
            Job::Replay {
                bucket: "stockstream-data".into(),
                key: "drop/indexProcessed head.csv".into()
            }
        );
        assert!(matches!(&jobs[1], Job::Replay { key, .. } if key == "drop/2024/HSI (copy).csv"));
        assert!(matches!(&jobs[2], Job::Skip { why, .. } if why.contains("not a .csv")));
    }
}
