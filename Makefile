# OxiMPI top-level targets. The real work is in scripts/ so it can also run without make.
#   make          build the library, mpiexec and the install prefix build/
#   make demo     build, then run examples/hello.c on 4 ranks, and mpi4py (built from source
#                 with our mpicc) hello world on 4 ranks and a spawned MPIPoolExecutor
#   make test     build, then run every test suite (scripts/test.sh); installs nothing
#   make bench    build, then benchmarks against MPICH and Open MPI (bench/run.sh)
#   make clean    remove build/ and cargo's target/

.PHONY: all build demo test test-c test-c-mpich bench clean

all: build

build:
	scripts/build.sh

demo: build
	build/bin/mpicc -O2 -o build/hello examples/hello.c
	timeout 60 build/bin/mpiexec -n 4 build/hello
	tests-py/run.sh --examples --filter '^(hello|pool_universe)'
	timeout 60 build/bin/mpiexec -n 4 tests-py/.venv/bin/python examples/py/hello.py
	timeout 60 build/bin/mpiexec -n 1 tests-py/.venv/bin/python examples/py/pool_universe.py

test: build
	scripts/test.sh

# Only the C tests on OxiMPI, or (needs no build) on MPICH to check the tests themselves.
test-c: build
	tests-c/run.sh
test-c-mpich:
	tests-c/run.sh --impl mpich

bench: build
	bench/run.sh

clean:
	rm -rf build
	cargo clean
