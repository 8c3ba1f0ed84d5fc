//! Where the launcher of a singleton lives (see `Pmi::start_launcher`).

use std::path::{Path, PathBuf};

/// The mpiexec to start: `OXIMPI_MPIEXEC` (the environment, or an MPI_T write), else `<dir of libmpi.so.12>/../bin/mpiexec`
/// (the install layout), else `mpiexec` searched in PATH.
pub fn find_mpiexec() -> PathBuf {
    if let Some(p) = crate::settings::MPIEXEC
        .get_text()
        .filter(|p| !p.is_empty())
    {
        return PathBuf::from(p);
    }
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    if let Some(lib) = loaded_library(&maps, "libmpi.so.12") {
        if let Some(candidate) = lib.parent().map(|d| d.join("../bin/mpiexec")) {
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    PathBuf::from("mpiexec")
}

/// The path of the mapped file named `name` in a `/proc/self/maps` text.
fn loaded_library(maps: &str, name: &str) -> Option<PathBuf> {
    maps.lines()
        // The path is the last field and starts at the first '/' (it may contain spaces).
        .filter_map(|l| l.find('/').map(|i| Path::new(&l[i..])))
        .find(|p| p.file_name().is_some_and(|f| f == name))
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_library_in_maps() {
        let maps = "\
7f00-7f01 r--p 00000000 08:01 123 /usr/lib/x86_64-linux-gnu/libc.so.6
7f02-7f03 r-xp 00001000 08:01 456 /opt/my mpi/lib/libmpi.so.12
7f04-7f05 rw-p 00000000 00:00 0 [heap]
";
        assert_eq!(
            loaded_library(maps, "libmpi.so.12"),
            Some(PathBuf::from("/opt/my mpi/lib/libmpi.so.12"))
        );
        assert_eq!(loaded_library(maps, "libmpi.so"), None);
        assert_eq!(loaded_library("", "libmpi.so.12"), None);
    }
}
