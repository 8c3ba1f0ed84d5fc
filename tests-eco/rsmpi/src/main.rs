//! Ring, allreduce and broadcast through rsmpi, checked: prints "rsmpi ok: N ranks, LIBRARY"
//! from rank 0 and panics (non-zero exit, the job fails) on a wrong value.
use mpi::collective::SystemOperation;
use mpi::traits::*;

fn main() {
    let universe = mpi::initialize().expect("MPI_Init");
    let world = universe.world();
    let (rank, size) = (world.rank(), world.size());

    // The token goes around once, every rank adding its rank.
    if size > 1 {
        let next = world.process_at_rank((rank + 1) % size);
        let prev = world.process_at_rank((rank + size - 1) % size);
        if rank == 0 {
            next.send(&1000i32);
            let (token, _) = prev.receive::<i32>();
            assert_eq!(token, 1000 + size * (size - 1) / 2, "token after one lap");
        } else {
            let (token, _) = prev.receive::<i32>();
            next.send(&(token + rank));
        }
    }

    let mut sum = 0i32;
    world.all_reduce_into(&rank, &mut sum, SystemOperation::sum());
    assert_eq!(sum, size * (size - 1) / 2, "allreduce sum");

    let mut data = if rank == 0 { [7u64, 8, 9] } else { [0; 3] };
    world.process_at_rank(0).broadcast_into(&mut data[..]);
    assert_eq!(data, [7, 8, 9], "broadcast");

    if rank == 0 {
        let lib = mpi::environment::library_version().expect("library version");
        println!("rsmpi ok: {size} ranks, {}", lib.lines().next().unwrap_or(""));
    }
}
