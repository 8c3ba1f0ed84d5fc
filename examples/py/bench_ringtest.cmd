# mpi4py's ring test: a 1 KiB message goes round the ring of 3 ranks 100 times.
# np: 3
# run: -m mpi4py.bench ringtest -n 1024 -s 10 -l 100
# expect-count: 1 time for 100 loops = [0-9.e+-]+ seconds \(3 processes, 1024 bytes\)
