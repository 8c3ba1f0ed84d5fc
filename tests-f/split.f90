! Communicators through `use mpi`: MPI_COMM_SPLIT by parity with a reversed key, compare,
! groups and rank translation, MPI_UNDEFINED color.
program split
  use mpi
  implicit none
  integer :: ierr, rank, size, sub, srank, ssize, res, g1, g2, r2(1), color, none, expect

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, size, ierr)

  call MPI_Comm_split(MPI_COMM_WORLD, mod(rank, 2), -rank, sub, ierr)
  call MPI_Comm_rank(sub, srank, ierr)
  call MPI_Comm_size(sub, ssize, ierr)
  expect = (size - mod(rank, 2) + 1) / 2
  if (ssize /= expect) call fail('split size')
  ! Keys are -rank: the highest world rank of a color comes first.
  if (srank /= (ssize - 1) - rank / 2) call fail('split rank order')

  call MPI_Comm_compare(sub, MPI_COMM_WORLD, res, ierr)
  if (size == 1) then
     if (res /= MPI_CONGRUENT) call fail('compare (one rank)')
  else if (res /= MPI_UNEQUAL) then
     call fail('compare')
  end if

  call MPI_Comm_group(sub, g1, ierr)
  call MPI_Comm_group(MPI_COMM_WORLD, g2, ierr)
  call MPI_Group_translate_ranks(g1, 1, (/ srank /), g2, r2, ierr)
  if (r2(1) /= rank) call fail('translate_ranks')
  call MPI_Group_free(g1, ierr)
  call MPI_Group_free(g2, ierr)

  ! Only rank 0 gets a communicator.
  color = MPI_UNDEFINED
  if (rank == 0) color = 0
  call MPI_Comm_split(MPI_COMM_WORLD, color, 0, none, ierr)
  if (rank == 0) then
     if (none == MPI_COMM_NULL) call fail('split color 0')
     call MPI_Comm_free(none, ierr)
  else if (none /= MPI_COMM_NULL) then
     call fail('MPI_UNDEFINED color')
  end if

  call MPI_Comm_free(sub, ierr)
  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  if (rank == 0) print '(a)', 'PASS split'
  call MPI_Finalize(ierr)
end program split

include 'fail.h'
