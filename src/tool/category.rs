//! Categories (MPI 4.1 §15.3.9): the control variables, performance variables and events
//! grouped by the part of the library they belong to, under one root category. The set
//! never changes while the process runs, so MPI_T_category_changed always gives the same
//! number.

use super::{event, pvar, ToolError};
use crate::settings;

pub struct Category {
    pub name: &'static str,
    pub desc: &'static str,
    /// The key the variables name in their `category` field (None for the root).
    key: Option<&'static str>,
}

/// Index 0 is the root; its subcategories are all the others.
pub static ALL: [Category; 7] = [
    Category {
        name: "oximpi",
        desc: "Everything OxiMPI exposes through MPI_T",
        key: None,
    },
    Category {
        name: "oximpi_p2p",
        desc: "Point-to-point protocols: eager and rendezvous, single copy, matching queues",
        key: Some("p2p"),
    },
    Category {
        name: "oximpi_shm",
        desc: "The node's shared-memory segment",
        key: Some("shm"),
    },
    Category {
        name: "oximpi_progress",
        desc: "The progress engine and its waiting policy",
        key: Some("progress"),
    },
    Category {
        name: "oximpi_coll",
        desc: "Collective operations",
        key: Some("coll"),
    },
    Category {
        name: "oximpi_dpm",
        desc: "Dynamic processes: launcher and name service",
        key: Some("dpm"),
    },
    Category {
        name: "oximpi_launch",
        desc: "How a process learns its job from the launcher (PMI-1, PMI-2, PMIx)",
        key: Some("launch"),
    },
];

pub fn get(i: usize) -> Result<&'static Category, ToolError> {
    ALL.get(i).ok_or(ToolError::InvalidIndex)
}

pub fn index(name: &str) -> Result<usize, ToolError> {
    ALL.iter()
        .position(|c| c.name == name)
        .ok_or(ToolError::InvalidName)
}

fn members<'a>(key: Option<&'a str>, of: impl Iterator<Item = &'a str>) -> Vec<usize> {
    of.enumerate()
        .filter(|(_, k)| key == Some(*k))
        .map(|(i, _)| i)
        .collect()
}

/// Indices of the control variables in category `i`.
pub fn cvars(i: usize) -> Result<Vec<usize>, ToolError> {
    let c = get(i)?;
    Ok(members(c.key, settings::ALL.iter().map(|k| k.category)))
}

/// Indices of the performance variables in category `i`.
pub fn pvars(i: usize) -> Result<Vec<usize>, ToolError> {
    let c = get(i)?;
    Ok(members(c.key, pvar::ALL.iter().map(|p| p.category)))
}

/// Indices of the event types in category `i`.
pub fn events(i: usize) -> Result<Vec<usize>, ToolError> {
    let c = get(i)?;
    Ok(members(c.key, event::ALL.iter().map(|e| e.category)))
}

/// Indices of the subcategories of category `i`.
pub fn subcategories(i: usize) -> Result<Vec<usize>, ToolError> {
    get(i)?;
    Ok(if i == 0 {
        (1..ALL.len()).collect()
    } else {
        Vec::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_has_a_category() {
        let n: usize = (0..ALL.len()).map(|i| cvars(i).unwrap().len()).sum();
        assert_eq!(n, settings::ALL.len());
        let n: usize = (0..ALL.len()).map(|i| pvars(i).unwrap().len()).sum();
        assert_eq!(n, pvar::ALL.len());
        let n: usize = (0..ALL.len()).map(|i| events(i).unwrap().len()).sum();
        assert_eq!(n, event::ALL.len());
        assert_eq!(subcategories(0).unwrap().len(), ALL.len() - 1);
        assert_eq!(index("oximpi_p2p"), Ok(1));
    }
}
