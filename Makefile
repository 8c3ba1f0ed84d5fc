# OxiMPI top-level targets. The real work is in scripts/ so it can also run without make.
#   make          build the library, mpiexec and the install prefix build/
#   make demo     build, then run examples/hello.c on 4 ranks, and mpi4py (built from source
#                 with our mpicc) hello world on 4 ranks and a spawned MPIPoolExecutor
#   make test     build, then run every test suite (scripts/test.sh); installs nothing
#   make bench    build, then benchmarks against MPICH and Open MPI (bench/run.sh)
#   make install  build, then install under PREFIX (default /usr/local), staged under DESTDIR
#                 if given (scripts/install.sh); run ldconfig afterwards for a system prefix
#   make uninstall  remove what make install put under DESTDIR/PREFIX
#   make test-ecosystem  CMake, Meson, pkg-config, rsmpi, the mpi4py wheel after an install
#                 (tests-eco/run.sh; part of make test)
#   make clean    remove build/ and cargo's target/

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all build demo test test-c test-c-mpich test-ecosystem bench install uninstall clean

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

install: build
	scripts/install.sh --prefix "$(PREFIX)" --destdir "$(DESTDIR)"

uninstall:
	scripts/install.sh --uninstall --prefix "$(PREFIX)" --destdir "$(DESTDIR)"

test-ecosystem: build
	tests-eco/run.sh

clean:
	rm -rf build
	cargo clean
