//! `PMI_process_mapping`: which node each rank runs on.
//!
//! The value is `(vector,(start,nodes,ranks_per_node),...)`: each triple puts
//! `ranks_per_node` consecutive ranks on each of the `nodes` nodes `start, start+1, ...`.
//! When the triples cover fewer ranks than the job has, the pattern repeats (hydra describes
//! 2 ranks on one node as `(vector,(0,1,1))`, i.e. blocks of one rank, cyclically).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError(pub String);

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad PMI_process_mapping: {}", self.0)
    }
}

/// The node index of each of the `size` ranks.
pub fn parse_process_mapping(value: &str, size: u32) -> Result<Vec<u32>, MappingError> {
    let err = |why: &str| MappingError(format!("{why} in {value:?}"));
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let body = compact
        .strip_prefix("(vector,")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| err("expected (vector,...)"))?;
    // Pattern of node indices, one entry per rank of one period.
    let mut pattern: Vec<u32> = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let inner = rest.strip_prefix('(').ok_or_else(|| err("expected '('"))?;
        let close = inner.find(')').ok_or_else(|| err("missing ')'"))?;
        let nums: Vec<u32> = inner[..close]
            .split(',')
            .map(|n| n.parse::<u32>())
            .collect::<Result<_, _>>()
            .map_err(|_| err("non-numeric entry"))?;
        let [start, nodes, per_node] = nums[..] else {
            return Err(err("triple without 3 entries"));
        };
        for node in 0..nodes {
            let node = start
                .checked_add(node)
                .ok_or_else(|| err("node index overflow"))?;
            for _ in 0..per_node {
                if pattern.len() >= size as usize {
                    break;
                }
                pattern.push(node);
            }
        }
        rest = &inner[close + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
    if pattern.is_empty() {
        return Err(err("no ranks described"));
    }
    Ok((0..size as usize)
        .map(|r| pattern[r % pattern.len()])
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_node() {
        assert_eq!(
            parse_process_mapping("(vector,(0,1,4))", 4).unwrap(),
            vec![0; 4]
        );
    }

    #[test]
    fn hydra_cyclic_single_node() {
        assert_eq!(
            parse_process_mapping("(vector,(0,1,1))", 3).unwrap(),
            vec![0, 0, 0]
        );
    }

    #[test]
    fn blocks_over_nodes() {
        assert_eq!(
            parse_process_mapping("(vector,(0,2,2))", 4).unwrap(),
            vec![0, 0, 1, 1]
        );
        assert_eq!(
            parse_process_mapping("(vector,(0,2,1))", 4).unwrap(),
            vec![0, 1, 0, 1]
        );
        assert_eq!(
            parse_process_mapping("(vector,(0,2,2),(2,1,1))", 5).unwrap(),
            vec![0, 0, 1, 1, 2]
        );
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "vector",
            "(vector,)",
            "(vector,(0,1))",
            "(vector,(0,1,x))",
            "(vector,(0,0,4))",
            "(vector,(0,1,4)",
            "(vector,(0,1,4),(1,",
            "(vector,(4294967295,2,1))",
        ] {
            assert!(
                parse_process_mapping(bad, 4).is_err(),
                "{bad:?} should fail"
            );
        }
    }
}
