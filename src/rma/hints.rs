//! The info hints of a window (MPI 4.1 section 12.2.1): what MPI_Win_create & co. and
//! MPI_Win_set_info accept, and what MPI_Win_get_info reports.
//!
//! As MPICH 4.0.2 does, a window knows the standard hints `no_locks`,
//! `accumulate_ordering`, `accumulate_ops`, `alloc_shared_noncontig`, `same_size` and
//! `same_disp_unit`, whatever its flavor, and reports all of them with their value in
//! force (the default, or what the user set). Keys it does not know are not kept, and a
//! value it cannot parse leaves the hint as it was. (MPICH refuses a malformed
//! `accumulate_ordering` with an error; a hint may be ignored, so here it is.)
//!
//! None of these hints changes how this implementation behaves: operations from one origin
//! are always applied in order and locks always work. What they promise stays recorded
//! for the user, as MPI asks of hints an implementation accepts.

use crate::object::info::Info;

/// The orderings of `accumulate_ordering`, in the order MPICH prints them.
const ORDERINGS: [&str; 4] = ["rar", "raw", "war", "waw"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hints {
    pub no_locks: bool,
    /// Bit i: ORDERINGS[i] is required. 0 is "none".
    pub ordering: u8,
    /// `accumulate_ops`: true for "same_op", false for "same_op_no_op".
    pub same_op: bool,
    pub alloc_shared_noncontig: bool,
    pub same_size: bool,
    pub same_disp_unit: bool,
}

impl Default for Hints {
    fn default() -> Self {
        Hints {
            no_locks: false,
            ordering: 0b1111,
            same_op: false,
            alloc_shared_noncontig: false,
            same_size: false,
            same_disp_unit: false,
        }
    }
}

fn boolean(v: &str) -> Option<bool> {
    match v {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn ordering(v: &str) -> Option<u8> {
    if v == "none" {
        return Some(0);
    }
    let mut bits = 0u8;
    for part in v.split(',') {
        let i = ORDERINGS.iter().position(|&o| o == part.trim())?;
        bits |= 1 << i;
    }
    Some(bits)
}

impl Hints {
    /// The defaults overridden by `user`.
    pub fn from_info(user: &Info) -> Hints {
        let mut h = Hints::default();
        h.update(user);
        h
    }

    /// Takes the hints of `user` it knows and can parse (MPI_Win_set_info).
    pub fn update(&mut self, user: &Info) {
        for (k, v) in user.iter() {
            match k {
                "no_locks" => set(&mut self.no_locks, boolean(v)),
                "accumulate_ordering" => set(&mut self.ordering, ordering(v)),
                "accumulate_ops" => set(
                    &mut self.same_op,
                    match v {
                        "same_op" => Some(true),
                        "same_op_no_op" => Some(false),
                        _ => None,
                    },
                ),
                "alloc_shared_noncontig" => set(&mut self.alloc_shared_noncontig, boolean(v)),
                "same_size" => set(&mut self.same_size, boolean(v)),
                "same_disp_unit" => set(&mut self.same_disp_unit, boolean(v)),
                _ => {}
            }
        }
    }

    /// The hints in force, as MPI_Win_get_info returns them.
    pub fn to_info(&self) -> Info {
        let tf = |b: bool| if b { "true" } else { "false" };
        let ordering = if self.ordering == 0 {
            "none".to_string()
        } else {
            let on = (0..4).filter(|i| self.ordering & (1 << i) != 0);
            on.map(|i| ORDERINGS[i]).collect::<Vec<_>>().join(",")
        };
        let mut i = Info::new();
        i.set("no_locks", tf(self.no_locks));
        i.set("accumulate_ordering", &ordering);
        i.set(
            "accumulate_ops",
            if self.same_op {
                "same_op"
            } else {
                "same_op_no_op"
            },
        );
        i.set("alloc_shared_noncontig", tf(self.alloc_shared_noncontig));
        i.set("same_size", tf(self.same_size));
        i.set("same_disp_unit", tf(self.same_disp_unit));
        i
    }
}

fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(pairs: &[(&str, &str)]) -> Info {
        let mut i = Info::new();
        for (k, v) in pairs {
            i.set(k, v);
        }
        i
    }

    #[test]
    fn defaults_and_user_values() {
        let d = Hints::default().to_info();
        let keys: Vec<_> = d.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(
            keys,
            [
                "no_locks",
                "accumulate_ordering",
                "accumulate_ops",
                "alloc_shared_noncontig",
                "same_size",
                "same_disp_unit"
            ]
        );
        assert_eq!(d.get("accumulate_ordering"), Some("rar,raw,war,waw"));
        let h = Hints::from_info(&info(&[
            ("no_locks", "true"),
            ("accumulate_ordering", "waw,rar"),
            ("accumulate_ops", "same_op"),
            ("unknown_key", "x"),
        ]));
        let i = h.to_info();
        assert_eq!(i.get("no_locks"), Some("true"));
        assert_eq!(i.get("accumulate_ordering"), Some("rar,waw"));
        assert_eq!(i.get("accumulate_ops"), Some("same_op"));
        assert_eq!(i.get("unknown_key"), None);
        assert_eq!(i.len(), 6);
    }

    #[test]
    fn malformed_values_leave_the_hint() {
        let mut h = Hints::from_info(&info(&[("accumulate_ordering", "none")]));
        assert_eq!(h.to_info().get("accumulate_ordering"), Some("none"));
        h.update(&info(&[
            ("accumulate_ordering", "rar,bogus"),
            ("no_locks", "maybe"),
            ("same_size", "TRUE"),
        ]));
        assert_eq!(
            h,
            Hints::from_info(&info(&[("accumulate_ordering", "none")]))
        );
    }
}
