/*
 * mpio.h -- MPI-IO declarations.
 *
 * In OxiMPI everything MPI-IO needs (MPI_File, the access modes, the MPI_File_* prototypes and
 * ROMIO's MPIO_Request/MPIO_Wait/MPIO_Test compatibility names) is declared in mpi.h, as MPICH's
 * mpi.h also pulls in its mpio.h. This file exists for programs that include <mpio.h> directly.
 */
#ifndef MPIO_INCLUDE
#define MPIO_INCLUDE

#include "mpi.h"

#endif /* MPIO_INCLUDE */
