//! Where ranks run across hosts: the host file, hydra's placement, and the
//! `PMI_process_mapping` value that tells the ranks which of them share a host.
//!
//! Placement follows hydra (MPICH's "Using the Hydra Process Manager"): ranks fill the first
//! host's slots in order, then the next host's, and when every slot is used they wrap around
//! to the first host again. `-ppn N` replaces every host's slot count by N. Open MPI's
//! `--host` differs: more ranks than slots is an error unless `--oversubscribe`.

use crate::args::{parse_host_slots, HostSlots};

/// Parses a host file: one `host[:slots]` per line; `#` starts a comment; blank lines are
/// skipped. Hydra also accepts `host:slots` followed by other words (e.g. `ifhn=`); we
/// refuse those with a clear message rather than ignore them silently.
pub fn parse_hostfile(text: &str, path: &str) -> Result<Vec<HostSlots>, String> {
    let mut hosts = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if line.split_whitespace().count() > 1 {
            return Err(format!(
                "{path}:{}: {line:?}: one host[:slots] per line",
                n + 1
            ));
        }
        hosts.push(parse_host_slots(line).map_err(|e| format!("{path}:{}: {e}", n + 1))?);
    }
    if hosts.is_empty() {
        return Err(format!("{path}: names no host"));
    }
    Ok(hosts)
}

/// The hosts of a job (duplicates merged, in first-seen order) and the host of each rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub hosts: Vec<String>,
    pub host_of: Vec<u32>,
}

impl Placement {
    /// Ranks of host `h`, in rank order.
    pub fn ranks_on(&self, h: u32) -> Vec<u32> {
        (0..self.host_of.len() as u32)
            .filter(|&r| self.host_of[r as usize] == h)
            .collect()
    }
}

/// Places `nranks` ranks on `list` (see the module docs). `strict`: Open MPI's rule, no more
/// ranks than slots.
pub fn place(
    list: &[HostSlots],
    nranks: u32,
    ppn: Option<u32>,
    strict: bool,
) -> Result<Placement, String> {
    // The same host named twice is one host with the slots of each mention, in turn.
    let mut hosts: Vec<String> = Vec::new();
    let mut turns: Vec<(u32, u32)> = Vec::new();
    for h in list {
        let idx = match hosts.iter().position(|n| *n == h.name) {
            Some(i) => i,
            None => {
                hosts.push(h.name.clone());
                hosts.len() - 1
            }
        };
        turns.push((idx as u32, ppn.unwrap_or(h.slots)));
    }
    let slots: u64 = turns.iter().map(|&(_, n)| u64::from(n)).sum();
    if strict && u64::from(nranks) > slots {
        return Err(format!(
            "{nranks} ranks but only {slots} slots on the hosts given (--host host:N gives a \
             host N slots; --oversubscribe allows more ranks than slots)"
        ));
    }
    let mut host_of = Vec::with_capacity(nranks as usize);
    'fill: loop {
        for &(h, n) in &turns {
            for _ in 0..n {
                if host_of.len() == nranks as usize {
                    break 'fill;
                }
                host_of.push(h);
            }
        }
        if nranks == 0 {
            break;
        }
    }
    Ok(Placement { hosts, host_of })
}

/// The hosts of `n` spawned processes: slots `used..used + n` of `list` (its slots in
/// order, `-ppn` applied, wrapping around as `place` does), so successive spawns fill the
/// slots the job's earlier processes left free, as hydra places spawned processes on its
/// host list. With `used` 0 and a `host` info key's list, the processes fill that list.
pub fn next_slots(list: &[HostSlots], ppn: Option<u32>, used: u64, n: u32) -> Vec<String> {
    let turns: Vec<(&str, u64)> = list
        .iter()
        .map(|h| (h.name.as_str(), u64::from(ppn.unwrap_or(h.slots))))
        .filter(|&(_, k)| k > 0)
        .collect();
    let total: u64 = turns.iter().map(|&(_, k)| k).sum();
    if total == 0 {
        return Vec::new();
    }
    (0..u64::from(n))
        .map(|k| {
            let mut slot = (used + k) % total;
            for &(name, k) in &turns {
                if slot < k {
                    return name.to_string();
                }
                slot -= k;
            }
            unreachable!("slot below the total")
        })
        .collect()
}

/// The placement of processes whose hosts are `names` (in rank order): the hosts in
/// first-seen order, and each process's index among them.
pub fn placement_of(names: &[String]) -> Placement {
    let mut hosts: Vec<String> = Vec::new();
    let host_of = names
        .iter()
        .map(|n| match hosts.iter().position(|h| h == n) {
            Some(i) => i as u32,
            None => {
                hosts.push(n.clone());
                hosts.len() as u32 - 1
            }
        })
        .collect();
    Placement { hosts, host_of }
}

/// MPICH's vector form of the host of each rank: runs of consecutive ranks on one host
/// become `(host,1,count)`, and runs of equal length on consecutive hosts are merged into
/// `(first,hosts,count)`, the form hydra writes. Parsed by `mpi::pmi::mapping`.
pub fn process_mapping(host_of: &[u32]) -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &h in host_of {
        match runs.last_mut() {
            Some((last, n)) if *last == h => *n += 1,
            _ => runs.push((h, 1)),
        }
    }
    let mut triples: Vec<(u32, u32, u32)> = Vec::new();
    for (h, n) in runs {
        match triples.last_mut() {
            Some((start, nodes, per)) if *per == n && *start + *nodes == h => *nodes += 1,
            _ => triples.push((h, 1, n)),
        }
    }
    let body: Vec<String> = triples
        .iter()
        .map(|(s, n, p)| format!("({s},{n},{p})"))
        .collect();
    format!("(vector,{})", body.join(","))
}

/// Expands hydra's output-file pattern tokens: `%r` rank, `%g` job (process group) number,
/// `%h` the rank's host, `%%` a percent sign. Another `%x` is kept as it is.
pub fn expand_pattern(pattern: &str, rank: u32, job: usize, host: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('r') => out.push_str(&rank.to_string()),
            Some('g') => out.push_str(&job.to_string()),
            Some('h') => out.push_str(host),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpi::pmi::mapping::parse_process_mapping;

    fn hs(list: &str) -> Vec<HostSlots> {
        crate::args::parse_host_list(list).unwrap()
    }

    #[test]
    fn spawned_processes_take_the_next_free_slots() {
        let list = crate::args::parse_host_list("a:2,b:2").unwrap();
        // Four ranks used a's and b's slots: the next two go to a again (wrap around).
        assert_eq!(next_slots(&list, None, 4, 2), ["a", "a"]);
        // Two used: b's slots come next.
        assert_eq!(next_slots(&list, None, 2, 3), ["b", "b", "a"]);
        assert_eq!(next_slots(&list, Some(1), 1, 2), ["b", "a"]);
        // A `host` info key: its hosts, one slot each unless given.
        let info = crate::args::parse_host_list("b").unwrap();
        assert_eq!(next_slots(&info, None, 0, 2), ["b", "b"]);
        assert!(next_slots(&list, None, 0, 0).is_empty());
        let p = placement_of(&["b".into(), "a".into(), "b".into()]);
        assert_eq!(p.hosts, ["b", "a"]);
        assert_eq!(p.host_of, [0, 1, 0]);
    }

    #[test]
    fn hydra_placement_fills_slots_then_wraps() {
        let p = place(&hs("a,b"), 5, None, false).unwrap();
        assert_eq!(p.hosts, ["a", "b"]);
        assert_eq!(p.host_of, [0, 1, 0, 1, 0]);
        let p = place(&hs("a:2,b:2"), 6, None, false).unwrap();
        assert_eq!(p.host_of, [0, 0, 1, 1, 0, 0]);
        let p = place(&hs("a,b"), 4, Some(2), false).unwrap();
        assert_eq!(p.host_of, [0, 0, 1, 1]);
        assert_eq!(p.ranks_on(1), [2, 3]);
        let p = place(&hs("a,b,a"), 3, None, false).unwrap();
        assert_eq!(p.hosts, ["a", "b"]);
        assert_eq!(p.host_of, [0, 1, 0]);
    }

    #[test]
    fn open_mpi_host_needs_oversubscribe() {
        assert!(place(&hs("a:2,b"), 4, None, true).is_err());
        assert!(place(&hs("a:2,b"), 3, None, true).is_ok());
    }

    #[test]
    fn mapping_round_trips() {
        for host_of in [
            vec![0, 0, 1, 1],
            vec![0, 1, 0, 1, 0],
            vec![0, 0, 0],
            vec![0, 0, 1, 1, 2],
            vec![1, 0],
        ] {
            let m = process_mapping(&host_of);
            assert_eq!(
                parse_process_mapping(&m, host_of.len() as u32).unwrap(),
                host_of,
                "{m}"
            );
        }
        assert_eq!(process_mapping(&[0, 0, 1, 1]), "(vector,(0,2,2))");
        assert_eq!(process_mapping(&[0, 0, 0]), "(vector,(0,1,3))");
    }

    #[test]
    fn hostfile() {
        let h = parse_hostfile("# cluster\na:2\n\n  b # spare\n", "hf").unwrap();
        assert_eq!(h, hs("a:2,b"));
        assert!(parse_hostfile("# nothing\n", "hf").is_err());
        let e = parse_hostfile("a:x\n", "hf").unwrap_err();
        assert!(e.starts_with("hf:1:"), "{e}");
        assert!(parse_hostfile("a ifhn=x\n", "hf").is_err());
    }

    #[test]
    fn patterns() {
        assert_eq!(
            expand_pattern("out.%g.%r.%h%%%x", 3, 0, "b"),
            "out.0.3.b%%x"
        );
    }
}
