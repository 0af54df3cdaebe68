//! The send loop's two per-row calls, made straight to librdkafka.
//!
//! rdkafka's safe `BaseProducer::send` builds a C string of the topic name and looks the
//! topic up by name on every call, and its `poll` collects each delivery report's messages
//! into a freshly allocated array and locks our tracker once per message. On a million rows
//! those costs showed in the profile beside librdkafka's own work; the array, large enough
//! to make glibc consolidate its free lists, also slowed every later small allocation
//! (librdkafka allocated five per row while every row had headers: the message, the header
//! list and its two headers; a v2 row has none, see `stockstream_core::message`).
//! Here the topic handle is made once, and a delivery report is read message by message
//! with the tracker locked once per report.
//!
//! What librdkafka receives is what `send` gave it: the same key, value and headers (none
//! for a v2 value, and then no header list at all), copied (`RD_KAFKA_MSG_F_COPY`), the
//! default partitioner, the line number as the opaque. Delivery
//! reports served by rdkafka's own `poll` (in `flush`, and when the producer is dropped)
//! still reach [`Context::delivery`](crate::kafka::Context), which records them the same way.

use super::send::Kafka;
use rdkafka::bindings as rd;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::Producer;
use rdkafka::ClientContext;
use std::ffi::{c_int, c_void, CStr, CString};
use std::ptr;
use std::time::Duration;

/// A topic handle and the producer's event queue, for the send loop's thread.
pub(crate) struct Native<'a> {
    producer: &'a Kafka,
    topic: *mut rd::rd_kafka_topic_t,
    queue: *mut rd::rd_kafka_queue_t,
}

impl<'a> Native<'a> {
    /// Handles for sending to `topic` with `producer`.
    pub(crate) fn new(producer: &'a Kafka, topic: &str) -> Result<Self, KafkaError> {
        let name = CString::new(topic)?;
        let rk = producer.client().native_ptr();
        // SAFETY: `rk` is a live producer; a null configuration takes the producer's
        // default topic settings, as naming the topic in each produce call does.
        let handle = unsafe { rd::rd_kafka_topic_new(rk, name.as_ptr(), ptr::null_mut()) };
        if handle.is_null() {
            // SAFETY: reads the calling thread's last error.
            let code = unsafe { rd::rd_kafka_last_error() };
            return Err(KafkaError::MessageProduction(code.into()));
        }
        // SAFETY: a new reference to the queue rdkafka's own `poll` serves.
        let queue = unsafe { rd::rd_kafka_queue_get_main(rk) };
        Ok(Native {
            producer,
            topic: handle,
            queue,
        })
    }

    /// Hands one row to librdkafka, which copies key, value and headers; `line` comes back
    /// in the row's delivery report. On an error (a full queue among them) nothing was
    /// taken.
    pub(crate) fn produce(
        &self,
        key: &[u8],
        value: &[u8],
        headers: &[(&str, &[u8])],
        line: u64,
    ) -> Result<(), RDKafkaErrorCode> {
        use rd::rd_kafka_vtype_t::*;
        let mem = |b: &[u8]| rd::rd_kafka_vu_s__bindgen_ty_1 {
            mem: rd::rd_kafka_vu_s__bindgen_ty_1__bindgen_ty_1 {
                ptr: b.as_ptr() as *mut c_void,
                size: b.len(),
            },
        };
        let vu = |vtype, u| rd::rd_kafka_vu_t { vtype, u };
        // SAFETY: the handles are live for `'a`; librdkafka copies key, value and header
        // bytes before returning, takes the header list only on success, and the pointers
        // given are valid for the lengths given.
        unsafe {
            let hdrs = if headers.is_empty() {
                ptr::null_mut()
            } else {
                let hdrs = rd::rd_kafka_headers_new(headers.len());
                for &(name, v) in headers {
                    rd::rd_kafka_header_add(
                        hdrs,
                        name.as_ptr().cast(),
                        name.len() as isize,
                        v.as_ptr().cast(),
                        v.len() as isize,
                    );
                }
                hdrs
            };
            let vus = [
                vu(
                    RD_KAFKA_VTYPE_RKT,
                    rd::rd_kafka_vu_s__bindgen_ty_1 { rkt: self.topic },
                ),
                vu(
                    RD_KAFKA_VTYPE_MSGFLAGS,
                    rd::rd_kafka_vu_s__bindgen_ty_1 {
                        i: rd::RD_KAFKA_MSG_F_COPY,
                    },
                ),
                vu(RD_KAFKA_VTYPE_VALUE, mem(value)),
                vu(RD_KAFKA_VTYPE_KEY, mem(key)),
                vu(
                    RD_KAFKA_VTYPE_OPAQUE,
                    // The same encoding as rdkafka's `usize` delivery opaque.
                    rd::rd_kafka_vu_s__bindgen_ty_1 {
                        ptr: line as usize as *mut c_void,
                    },
                ),
                vu(
                    RD_KAFKA_VTYPE_HEADERS,
                    rd::rd_kafka_vu_s__bindgen_ty_1 { headers: hdrs },
                ),
            ];
            // Without headers the list ends before its last entry: no header list is made.
            let n = if hdrs.is_null() {
                vus.len() - 1
            } else {
                vus.len()
            };
            let rk = self.producer.client().native_ptr();
            let err = rd::rd_kafka_produceva(rk, vus.as_ptr(), n);
            if err.is_null() {
                return Ok(());
            }
            let code = rd::rd_kafka_error_code(err);
            rd::rd_kafka_error_destroy(err);
            if !hdrs.is_null() {
                rd::rd_kafka_headers_destroy(hdrs);
            }
            Err(code.into())
        }
    }

    /// Serves the producer's events: waits up to `timeout` for the first, then takes what
    /// else is ready without waiting. Delivery reports go to the tracker, errors to the
    /// context's error log as rdkafka's `poll` would send them; other events (statistics,
    /// which this producer does not ask for) are dropped.
    pub(crate) fn poll(&self, timeout: Duration) {
        let mut wait = timeout.as_millis().min(c_int::MAX as u128) as c_int;
        loop {
            // SAFETY: the queue handle is live; the event is destroyed below.
            let ev = unsafe { rd::rd_kafka_queue_poll(self.queue, wait) };
            if ev.is_null() {
                return;
            }
            wait = 0;
            // SAFETY: `ev` is a live event until destroyed.
            match unsafe { rd::rd_kafka_event_type(ev) } {
                rd::RD_KAFKA_EVENT_DR => self.deliveries(ev),
                rd::RD_KAFKA_EVENT_ERROR => unsafe {
                    let code = rd::rd_kafka_event_error(ev);
                    let reason = CStr::from_ptr(rd::rd_kafka_event_error_string(ev));
                    self.producer.context().error(
                        KafkaError::Global(code.into()),
                        reason.to_string_lossy().trim(),
                    );
                },
                _ => {}
            }
            // SAFETY: destroys the event and the messages it holds, once.
            unsafe { rd::rd_kafka_event_destroy(ev) };
        }
    }

    /// Records every message of a delivery report, as [`Context::delivery`] does.
    ///
    /// [`Context::delivery`]: crate::kafka::Context
    fn deliveries(&self, ev: *mut rd::rd_kafka_event_t) {
        let mut tracker = self
            .producer
            .context()
            .tracker
            .lock()
            .expect("tracker lock");
        loop {
            // SAFETY: the messages belong to the live event `ev`.
            let m = unsafe { rd::rd_kafka_event_message_next(ev) };
            let Some(m) = (unsafe { m.as_ref() }) else {
                return;
            };
            let line = m._private as usize as u64;
            if m.err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                tracker.delivered(line, m.partition, m.offset);
            } else {
                let e = KafkaError::MessageProduction(m.err.into());
                tracker.failed(line, e.to_string());
            }
        }
    }
}

impl Drop for Native<'_> {
    fn drop(&mut self) {
        // SAFETY: each handle was taken once in `new` and is released once here, before
        // the producer (borrowed for `'a`) can be destroyed.
        unsafe {
            rd::rd_kafka_queue_destroy(self.queue);
            rd::rd_kafka_topic_destroy(self.topic);
        }
    }
}
