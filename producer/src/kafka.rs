//! Everything that talks to Kafka: client settings, the producer's delivery callback, and a
//! bounded reader of a topic range (used to resume without duplicates and by `summary`).

use crate::config::{KafkaConfig, ProduceConfig};
use crate::tracker::Tracker;
use rdkafka::client::Client;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Settings shared by producers and consumers: servers and security.
pub fn base_config(k: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &k.brokers);
    if let Some(v) = &k.security_protocol {
        c.set("security.protocol", v);
    }
    if let Some(v) = &k.sasl_mechanism {
        c.set("sasl.mechanism", v);
    }
    if let Some(v) = &k.sasl_username {
        c.set("sasl.username", v);
    }
    if let Some(v) = &k.sasl_password {
        c.set("sasl.password", v);
    }
    if let Some(v) = &k.ssl_ca_location {
        c.set("ssl.ca.location", v.to_string_lossy());
    }
    c
}

fn apply_extra(c: &mut ClientConfig, k: &KafkaConfig) {
    for (key, value) in &k.extra {
        c.set(key, value);
    }
}

/// Producer settings: idempotent, `acks=all`, compressed, batched, and a bounded queue so
/// memory does not grow with the input.
pub fn producer_config(a: &ProduceConfig) -> ClientConfig {
    let mut c = base_config(&a.kafka);
    c.set("client.id", "stockstream-producer")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", &a.compression)
        .set("linger.ms", a.linger_ms.to_string())
        .set("batch.size", a.batch_bytes.to_string())
        .set("batch.num.messages", "100000")
        .set("queue.buffering.max.kbytes", a.queue_kb.to_string())
        .set("queue.buffering.max.messages", "200000")
        .set("message.timeout.ms", a.delivery_timeout_ms.to_string())
        // The Java client's partitioner, so other clients put a symbol in the same partition.
        .set("partitioner", "murmur2_random");
    apply_extra(&mut c, &a.kafka);
    c
}

/// Consumer settings for reading a range without joining a group or committing.
pub fn reader_config(k: &KafkaConfig) -> ClientConfig {
    let mut c = base_config(k);
    c.set(
        "group.id",
        format!("stockstream-reader-{}", std::process::id()),
    )
    .set("enable.auto.commit", "false")
    .set("enable.auto.offset.store", "false")
    .set("auto.offset.reset", "earliest");
    apply_extra(&mut c, k);
    c
}

/// The producer's context: delivery reports go to the [`Tracker`].
pub struct Context {
    /// Delivery bookkeeping. Locked only by the thread that polls the producer.
    pub tracker: Mutex<Tracker>,
}

impl ClientContext for Context {}

impl ProducerContext for Context {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, line: usize) {
        let mut t = self.tracker.lock().expect("tracker lock");
        match result {
            Ok(m) => t.delivered(line as u64, m.partition(), m.offset()),
            Err((e, _)) => t.failed(line as u64, e.to_string()),
        }
    }
}

/// Why a topic cannot be described or read to its end; each names the topic (and the
/// partition where one is at fault).
#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    /// The cluster's metadata cannot be fetched (brokers unreachable, authentication).
    #[error("fetching metadata for topic {topic:?}: {cause}")]
    Metadata {
        /// The topic.
        topic: String,
        /// Why.
        cause: KafkaError,
    },
    /// The metadata does not mention the topic.
    #[error("broker did not describe topic {topic:?}")]
    NotDescribed {
        /// The topic.
        topic: String,
    },
    /// The broker reports an error for the topic (it does not exist, or is not authorised).
    #[error("topic {topic:?} is not available ({code:?}); create it first (topics are not auto-created)")]
    Unavailable {
        /// The topic.
        topic: String,
        /// The broker's error code.
        code: RDKafkaRespErr,
    },
    /// The topic has no partitions.
    #[error("topic {topic:?} does not exist or has no partitions; create it first")]
    NoPartitions {
        /// The topic.
        topic: String,
    },
    /// A partition's offsets cannot be fetched.
    #[error("fetching offsets of {topic}/{partition}: {cause}")]
    Offsets {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// Why.
        cause: KafkaError,
    },
    /// librdkafka refused the consumer's settings.
    #[error("creating Kafka consumer: {cause}")]
    Consumer {
        /// Why.
        cause: KafkaError,
    },
    /// The consumer cannot be assigned the partitions to read.
    #[error("assigning partitions of {topic}: {cause}")]
    Assign {
        /// The topic.
        topic: String,
        /// Why.
        cause: KafkaError,
    },
    /// Some partitions were not read to their end in time.
    #[error(
        "reading {topic}: partitions {partitions:?} did not reach their end within {timeout:?}"
    )]
    Timeout {
        /// The topic.
        topic: String,
        /// The partitions still short of their end.
        partitions: Vec<i32>,
        /// How long the read waited.
        timeout: Duration,
    },
    /// The consumer reported an error while reading.
    #[error("reading {topic}: {cause}")]
    Read {
        /// The topic.
        topic: String,
        /// Why.
        cause: KafkaError,
    },
}

/// Partitions of `topic` with their low and high watermarks.
pub fn watermarks<C: ClientContext>(
    client: &Client<C>,
    topic: &str,
    timeout: Duration,
) -> Result<BTreeMap<i32, (i64, i64)>, TopicError> {
    let md = client
        .fetch_metadata(Some(topic), timeout)
        .map_err(|cause| TopicError::Metadata {
            topic: topic.to_string(),
            cause,
        })?;
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .ok_or_else(|| TopicError::NotDescribed {
            topic: topic.to_string(),
        })?;
    if let Some(code) = t.error() {
        return Err(TopicError::Unavailable {
            topic: topic.to_string(),
            code,
        });
    }
    if t.partitions().is_empty() {
        return Err(TopicError::NoPartitions {
            topic: topic.to_string(),
        });
    }
    let mut out = BTreeMap::new();
    let deadline = Instant::now() + timeout;
    for p in t.partitions() {
        // A partition whose leader is moving (a topic just created, a broker restarting)
        // answers with a retriable error for a moment: ask again until the timeout.
        let w = loop {
            match client.fetch_watermarks(topic, p.id(), timeout) {
                Err(e) if retriable(&e) && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                r => break r,
            }
        }
        .map_err(|cause| TopicError::Offsets {
            topic: topic.to_string(),
            partition: p.id(),
            cause,
        })?;
        out.insert(p.id(), w);
    }
    Ok(out)
}

/// Errors that say "not now" rather than "no": a leader or coordinator moving.
pub fn retriable(e: &KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(
            C::NotLeaderForPartition
                | C::LeaderNotAvailable
                | C::UnknownTopicOrPartition
                | C::NotCoordinator
                | C::CoordinatorLoadInProgress
                | C::CoordinatorNotAvailable
                | C::RequestTimedOut
                | C::BrokerTransportFailure
        )
    )
}

/// Reads every message of `topic` from `from[p]` (or the partition start) to the end each
/// partition had when the call began (its high watermark), calling `f` for each.
///
/// The high watermark is where the replicated, readable log ends, so the reader is done the
/// moment every partition reaches it: a message at offset `high - 1`, or the consumer's
/// end-of-partition event where the last offsets are not messages (transaction markers, a
/// compacted tail). Messages written after the call began may or may not be read.
pub fn read_range(
    config: &ClientConfig,
    topic: &str,
    from: &BTreeMap<i32, i64>,
    timeout: Duration,
    mut f: impl FnMut(&BorrowedMessage<'_>),
) -> Result<(), TopicError> {
    let mut config = config.clone();
    config.set("enable.partition.eof", "true");
    let consumer: BaseConsumer = config
        .create()
        .map_err(|cause| TopicError::Consumer { cause })?;
    let marks = watermarks(consumer.client(), topic, timeout)?;
    let mut tpl = TopicPartitionList::new();
    let mut ends = BTreeMap::new();
    for (&p, &(low, high)) in &marks {
        let start = from.get(&p).copied().unwrap_or(low).max(low);
        if start < high {
            tpl.add_partition_offset(topic, p, Offset::Offset(start))
                .map_err(|cause| TopicError::Assign {
                    topic: topic.to_string(),
                    cause,
                })?;
            ends.insert(p, high);
        }
    }
    if ends.is_empty() {
        return Ok(());
    }
    consumer.assign(&tpl).map_err(|cause| TopicError::Assign {
        topic: topic.to_string(),
        cause,
    })?;
    let deadline = Instant::now() + timeout;
    while !ends.is_empty() {
        if Instant::now() > deadline {
            return Err(TopicError::Timeout {
                topic: topic.to_string(),
                partitions: ends.keys().copied().collect(),
                timeout,
            });
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(p))) => {
                ends.remove(&p);
            }
            Some(Err(cause)) => {
                return Err(TopicError::Read {
                    topic: topic.to_string(),
                    cause,
                })
            }
            Some(Ok(m)) => {
                let (p, o) = (m.partition(), m.offset());
                if ends.get(&p).is_some_and(|&end| o < end) {
                    f(&m);
                }
                if ends.get(&p).is_some_and(|&end| o + 1 >= end) {
                    ends.remove(&p);
                }
            }
        }
    }
    Ok(())
}

/// Header `(name, value)` pairs of a message.
pub fn headers<'a>(m: &'a BorrowedMessage<'_>) -> Vec<(&'a str, &'a [u8])> {
    use rdkafka::message::Headers;
    m.headers()
        .map(|h| h.iter().map(|h| (h.key, h.value.unwrap_or(&[]))).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn produce_config() -> ProduceConfig {
        ProduceConfig::new("k1:9096,k2:9096", "t", vec!["a.csv".into()])
    }

    #[test]
    fn a_moving_leader_is_retried_and_a_refusal_is_not() {
        use rdkafka::types::RDKafkaErrorCode as C;
        let e = |c| KafkaError::MetadataFetch(c);
        assert!(retriable(&e(C::NotLeaderForPartition)));
        assert!(retriable(&e(C::LeaderNotAvailable)));
        assert!(!retriable(&e(C::TopicAuthorizationFailed)));
        assert!(!retriable(&e(C::InvalidReplicationFactor)));
    }

    #[test]
    fn reliability_settings_are_on_by_default() {
        let c = producer_config(&produce_config());
        assert_eq!(c.get("bootstrap.servers"), Some("k1:9096,k2:9096"));
        assert_eq!(c.get("enable.idempotence"), Some("true"));
        assert_eq!(c.get("acks"), Some("all"));
        assert_eq!(c.get("compression.type"), Some("lz4"));
        assert_eq!(c.get("linger.ms"), Some("20"));
        assert_eq!(c.get("queue.buffering.max.kbytes"), Some("4096"));
        assert_eq!(c.get("partitioner"), Some("murmur2_random"));
        assert_eq!(c.get("security.protocol"), None);
    }

    #[test]
    fn security_flags_reach_librdkafka_and_extras_win() {
        let mut config = produce_config();
        let k = &mut config.kafka;
        k.security_protocol = Some("SASL_SSL".into());
        k.sasl_mechanism = Some("SCRAM-SHA-512".into());
        k.sasl_username = Some("app".into());
        k.sasl_password = Some("secret".into());
        k.ssl_ca_location = Some("/etc/ca.pem".into());
        k.extra = vec![
            ("acks".into(), "1".into()),
            (
                "ssl.endpoint.identification.algorithm".into(),
                "none".into(),
            ),
        ];
        let c = producer_config(&config);
        assert_eq!(c.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(c.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(c.get("sasl.username"), Some("app"));
        assert_eq!(c.get("sasl.password"), Some("secret"));
        assert_eq!(c.get("ssl.ca.location"), Some("/etc/ca.pem"));
        assert_eq!(c.get("acks"), Some("1"), "-X is applied last");
        assert_eq!(c.get("ssl.endpoint.identification.algorithm"), Some("none"));
        // The same settings configure the read-back client.
        let r = reader_config(&config.kafka);
        assert_eq!(r.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(r.get("sasl.password"), Some("secret"));
        assert_eq!(r.get("acks"), Some("1"));
        assert_eq!(r.get("enable.auto.commit"), Some("false"));
    }
}
