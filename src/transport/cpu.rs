//! Where this process's threads run: the CPU a thread is on, the CPUs it may use, and the
//! moves of a waiting rank to another CPU (the node segment's placement of ranks before a
//! point-to-point wait, `shm::segment::placement`, and the collectives' region before a
//! collective wait, `coll::shm`). A move narrows the affinity mask for an instant and gives
//! it back whole, so no rank is ever left pinned.

/// The CPUs this process may use (its affinity mask and cgroup quota, as
/// `std::thread::available_parallelism` counts them), counted once, at the first call
/// (MPI_Init's): every decision that compares the local ranks with the cores (the waiting
/// policy, the collectives' routes, the placement) sees the same figure, and a move, which
/// narrows the mask only for an instant, cannot change it.
pub fn usable_cpus() -> usize {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The CPU this thread runs on now (None if the kernel cannot say).
pub fn current_cpu() -> Option<u32> {
    // SAFETY: sched_getcpu takes no arguments and touches no memory of ours; it returns
    // -1 on failure, which the conversion turns into None.
    u32::try_from(unsafe { libc::sched_getcpu() }).ok()
}

/// Moves the calling thread to a CPU of its affinity mask that is not in `busy`, then gives
/// the mask back whole, so the rank is not pinned: the kernel keeps a running thread where
/// it is. Returns the CPU it moved to, or None when the mask has no other CPU (the user
/// pinned the rank, or every allowed CPU is busy) or the kernel refused.
///
/// Why: after a sleep the scheduler wakes a rank on its waker's CPU ("wake affine"), and two
/// ranks that take turns on one CPU look cache-hot to the load balancer, which then never
/// separates them while the other core idles (2 ranks on 2 cores: barrier 1.8 us a call
/// instead of 0.3, issue 13). Spreading them once costs two system calls.
pub fn move_off(busy: &[u32]) -> Option<u32> {
    move_within(|allowed, ncpu| (0..ncpu).find(|&c| allowed(c) && !busy.contains(&(c as u32))))
}

/// Moves the calling thread to `cpu`, then gives its affinity mask back whole, as
/// [`move_off`] does (the oversubscribed ranks' block placement, `shm::segment::placement`).
/// None if `cpu` is not in the mask or the kernel refused.
pub fn move_to(cpu: u32) -> Option<u32> {
    let c = cpu as usize;
    move_within(|allowed, ncpu| (c < ncpu && allowed(c)).then_some(c))
}

/// The move of [`move_off`] and [`move_to`]: `choose` is given the affinity mask's test of a
/// CPU and the mask's size in CPUs, and names the CPU to go to.
fn move_within(choose: impl FnOnce(&dyn Fn(usize) -> bool, usize) -> Option<usize>) -> Option<u32> {
    // SAFETY: cpu_set_t is plain old data (a bit array), for which all-zero is valid.
    let mut mask: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: pid 0 is the calling thread; `mask` is a live cpu_set_t of `size` bytes that
    // the kernel fills.
    if unsafe { libc::sched_getaffinity(0, size, &mut mask) } != 0 {
        return None;
    }
    let ncpu = 8 * size;
    // SAFETY: CPU_ISSET reads bit `c` of a live mask; `choose` asks only for c < ncpu.
    let allowed = |c: usize| c < ncpu && unsafe { libc::CPU_ISSET(c, &mask) };
    let to = choose(&allowed, ncpu)?;
    // SAFETY: as above, zeroed is a valid empty set.
    let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET writes bit `to` (< 8 * size: `choose` picked an allowed CPU) of the
    // live set `one`.
    unsafe { libc::CPU_SET(to, &mut one) };
    // SAFETY: pid 0 is the calling thread; both sets are live and `size` bytes long. The
    // first call migrates the thread to `to`, the second restores the mask it had.
    let moved = unsafe { libc::sched_setaffinity(0, size, &one) } == 0;
    // SAFETY: as above.
    unsafe { libc::sched_setaffinity(0, size, &mask) };
    moved.then_some(to as u32)
}
