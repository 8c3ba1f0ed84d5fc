# mpi4py's own hello world: every rank prints one line (in rank order, passing a token).
# np: 4
# run: -m mpi4py.bench helloworld
# expect-count: 4 Hello, World! I am process [0-3] of 4 on \S+\.
