! Module oxi_f08_glue (internal to libmpifort.so.12, not part of `use mpi_f08`): the
! interfaces of the library functions the generated wrappers (mpi_f08_wrappers.f90) call
! beside the `use mpi` bindings; src/abi/fortran/f08.rs implements them.
module oxi_f08_glue
    use, intrinsic :: iso_c_binding, only: c_int, c_int64_t, c_intptr_t
    implicit none
    ! "No datatype" for buffers without one (MPI_DATATYPE_NULL's value).
    integer(c_int), parameter :: OXI_NO_TYPE = int(z'0c000000', c_int)
    interface
        ! The address of a choice buffer and, for a non-contiguous section, a datatype
        ! describing it (mode 1), or an error class if it must be contiguous (mode 0).
        subroutine oxif08_buf(buf, mode, count, dtype, addr, ncount, ntype, err) &
                bind(C, name="oxif08_buf")
            import
            type(*), dimension(..), intent(in) :: buf
            integer(c_int), intent(in) :: mode
            integer(c_int64_t), intent(in) :: count
            integer(c_int), intent(in) :: dtype
            integer(c_intptr_t), intent(out) :: addr
            integer(c_int64_t), intent(out) :: ncount
            integer(c_int), intent(inout) :: ntype
            integer(c_int), intent(out) :: err
        end subroutine
        ! Frees the datatype oxif08_buf built (when ntype is not dtype).
        subroutine oxif08_type_free(ntype, dtype) bind(C, name="oxif08_type_free")
            import
            integer(c_int), intent(inout) :: ntype
            integer(c_int), intent(in) :: dtype
        end subroutine
        ! Raises the error oxif08_buf found through the errhandler of the call's object
        ! (kind 1 communicator, 2 window, 3 file, 0 none).
        subroutine oxif08_raise(kind, handle, class, ierr, func)
            integer, intent(in) :: kind, handle, class
            integer, intent(out) :: ierr
            character(len=*), intent(in) :: func
        end subroutine
    end interface
end module oxi_f08_glue
