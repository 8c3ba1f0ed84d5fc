//! Info objects: an ordered list of (key, value) string pairs. Insertion order is kept (the
//! n-th key of MPI_Info_get_nthkey is the n-th key set); setting an existing key replaces
//! its value in place.

/// MPI_MAX_INFO_KEY and MPI_MAX_INFO_VAL (without the terminating NUL).
pub const MAX_KEY: usize = 255;
pub const MAX_VAL: usize = 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    entries: Vec<(String, String)>,
}

impl Info {
    pub fn new() -> Self {
        Info::default()
    }

    pub fn set(&mut self, key: &str, value: &str) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(e) => e.1 = value.to_string(),
            None => self.entries.push((key.to_string(), value.to_string())),
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Removes `key`; false if it was not there.
    pub fn delete(&mut self, key: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(k, _)| k != key);
        self.entries.len() != before
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn nth_key(&self, n: usize) -> Option<&str> {
        self.entries.get(n).map(|(k, _)| k.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_replace() {
        let mut i = Info::new();
        i.set("b", "1");
        i.set("a", "2");
        i.set("b", "3");
        assert_eq!(i.nth_key(0), Some("b"));
        assert_eq!(i.nth_key(1), Some("a"));
        assert_eq!(i.get("b"), Some("3"));
        assert!(i.delete("b"));
        assert!(!i.delete("b"));
        assert_eq!(i.nth_key(0), Some("a"));
        assert_eq!(i.len(), 1);
    }
}
