//! The launcher's failure notices. Under `-disable-auto-cleanup` a launcher keeps the job
//! running when a rank dies, appends the rank to the KVS value `PMI_dead_processes` (a
//! comma-separated list of ranks and ranges, "2,5-7", as hydra writes it) and sends SIGUSR1
//! to the other ranks (MPICH's ch3 reads the same key after the same signal). Here the
//! signal only writes a byte on a pipe (`transport::process::SignalPipe`); the progress
//! engine's poller sees it, reads the key and adds the ranks to the failed set. A rank
//! blocked in MPI notices within one doorbell sleep (100 ms at most).

use crate::transport::process::SignalPipe;
use std::sync::OnceLock;

static PIPE: OnceLock<Option<SignalPipe>> = OnceLock::new();

/// The KVS key the launcher publishes dead ranks under (hydra's name).
pub const DEAD_KEY: &str = "PMI_dead_processes";

/// Starts listening for the launcher's SIGUSR1 notices. Returns false if the signal could
/// not be taken (another signal pipe in this process).
pub fn install() -> bool {
    PIPE.get_or_init(|| SignalPipe::install(&[libc::SIGUSR1]).ok())
        .is_some()
}

/// True if a notice arrived since the last call.
pub fn notice() -> bool {
    match PIPE.get() {
        Some(Some(p)) => !p.drain().is_empty(),
        _ => false,
    }
}

/// The ranks of a `PMI_dead_processes` value ("1,3-5" → 1, 3, 4, 5); malformed items are
/// skipped (the launcher writes the value; a bad item names no rank we could trust).
pub fn parse_dead(v: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.trim().parse::<u32>(), b.trim().parse::<u32>()) {
                    if a <= b && b - a < 1 << 20 {
                        out.extend(a..=b);
                    }
                }
            }
            None => {
                if let Ok(r) = item.parse() {
                    out.push(r);
                }
            }
        }
    }
    out
}

/// The value listing `ranks` (sorted, ranges folded), as hydra writes it.
pub fn format_dead(ranks: &[u32]) -> String {
    let mut v: Vec<u32> = ranks.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            v[i].to_string()
        } else {
            format!("{}-{}", v[i], v[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_list_round_trip() {
        assert_eq!(parse_dead("1,3-5, 9"), vec![1, 3, 4, 5, 9]);
        assert_eq!(parse_dead(""), Vec::<u32>::new());
        assert_eq!(parse_dead("x,2,5-3"), vec![2]);
        assert_eq!(format_dead(&[5, 1, 3, 4, 9, 4]), "1,3-5,9");
        assert_eq!(parse_dead(&format_dead(&[0, 1, 2, 7])), vec![0, 1, 2, 7]);
    }
}
