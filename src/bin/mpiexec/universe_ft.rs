//! `-disable-auto-cleanup` (hydra's option, for ULFM): a rank's death does not end the job.
//! The launcher becomes the failure detector of the library (`mpi::ft`), as hydra is for
//! MPICH: it appends the dead rank to the job's KVS value `PMI_dead_processes` (hydra's key
//! and format, "1,3-4"), sends SIGUSR1 to the job's other ranks (they read the key when the
//! signal arrives), and no longer waits for the dead rank in PMI barriers (so the survivors'
//! MPI_Finalize completes). The job's exit code is the worst one of its ranks, as hydra's.
//! Ranks on other hosts (reached through proxies) are not signalled: fault tolerance works
//! for ranks on mpiexec's own host.

use super::Universe;
use crate::args::FT_ENV;
use mpi::ft::detector::{format_dead, parse_dead, DEAD_KEY};
use mpi::transport::process;

impl Universe {
    /// True if the job was started with `-disable-auto-cleanup`.
    pub(super) fn fault_tolerant(&self) -> bool {
        self.defaults
            .genv
            .iter()
            .any(|(k, v)| k == FT_ENV && v.trim() == "1")
    }

    /// Process `i` died (`how` says how; `code` is its exit code, 128 + signal for a
    /// signal) and the job goes on: record the code, tell the survivors.
    pub(super) fn survive_death(&mut self, i: usize, code: i32, how: &str) {
        let (job, rank) = (self.procs[i].job, self.procs[i].rank);
        eprintln!(
            "mpiexec: {} {how}; the job goes on (-disable-auto-cleanup)",
            self.who(i)
        );
        self.exit_code = Some(self.exit_code.map_or(code, |c| c.max(code)));
        let kvsname = self.jobs[job].server.kvsname().to_string();
        let mut dead = parse_dead(self.kvs.get(&kvsname, DEAD_KEY).unwrap_or(""));
        dead.push(rank);
        let value = format_dead(&dead);
        self.jobs[job]
            .server
            .publish(&mut self.kvs, DEAD_KEY, &value);
        let mut replies = Vec::new();
        self.jobs[job].server.mark_dead(rank, &mut replies);
        let first = self.jobs[job].first;
        for (to, line) in replies {
            self.send_to(first + to as usize, &line);
        }
        // Only ranks that spoke PMI init have the library's handler (it is installed before
        // init); the others read the key when they start (SIGUSR1 would kill them).
        let server = &self.jobs[job].server;
        for p in &self.procs {
            let told = p.job == job && p.rank != rank && server.initialized(p.rank);
            if told && p.ended.is_none() && p.remote.is_none() && p.child.is_some() {
                // Gone meanwhile: its own end is judged when it is reaped.
                let _ = process::kill_pid(p.pid, libc::SIGUSR1);
            }
        }
    }
}
