//! An in-memory store for tests, with the fault injector the property tests use to fail any
//! write of a batch or a compaction run.

use crate::{content_tag, Created, Etag, Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// An in-memory store for tests; can fail the n-th write from now.
#[derive(Debug, Default)]
pub struct Memory {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    fail_in: Mutex<Option<usize>>,
}

impl Memory {
    /// The next `n` writes succeed and the one after fails (`None`: no failure).
    pub fn fail_after(&self, n: Option<usize>) {
        *self.fail_in.lock().expect("lock") = n;
    }

    fn check(&self, key: &str) -> Result<(), StoreError> {
        let mut f = self.fail_in.lock().expect("lock");
        match *f {
            Some(0) => {
                *f = None;
                Err(StoreError::Injected {
                    key: key.to_string(),
                })
            }
            Some(n) => {
                *f = Some(n - 1);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Every object, by key.
    pub fn objects(&self) -> BTreeMap<String, Vec<u8>> {
        self.objects.lock().expect("lock").clone()
    }
}

impl Store for Memory {
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, Etag)>, StoreError> {
        Ok(self
            .objects
            .lock()
            .expect("lock")
            .get(key)
            .map(|b| (b.clone(), content_tag(b))))
    }

    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Created, StoreError> {
        self.check(key)?;
        let mut o = self.objects.lock().expect("lock");
        if o.contains_key(key) {
            return Ok(Created::AlreadyExists);
        }
        o.insert(key.to_string(), bytes.to_vec());
        Ok(Created::Yes)
    }

    async fn put_if_match(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&Etag>,
    ) -> Result<bool, StoreError> {
        self.check(key)?;
        let mut o = self.objects.lock().expect("lock");
        if o.get(key).map(|b| content_tag(b)).as_ref() != expected {
            return Ok(false);
        }
        o.insert(key.to_string(), bytes.to_vec());
        Ok(true)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .objects
            .lock()
            .expect("lock")
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.check(key)?;
        self.objects.lock().expect("lock").remove(key);
        Ok(())
    }
}
