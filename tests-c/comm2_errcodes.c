/* MPI 5.0 §9.5: removing user-defined error classes, codes and strings. A class that still
 * has codes or a string, and a code that still has a string, cannot be removed; predefined
 * classes and codes cannot be removed at all; removed codes are no longer valid. */
#include "oxitest.h"

static void check_string(int code, const char *want)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = -1;
    MPI_CHECK(MPI_Error_string(code, s, &len));
    CHECK(len == (int)strlen(want) && strcmp(s, want) == 0, "string of %d is \"%s\", want \"%s\"",
          code, s, want);
}

int main(int argc, char **argv)
{
    ot_init("comm2_errcodes", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));

    int cls, c1, c2, got, *last, flag;
    MPI_CHECK(MPI_Add_error_class(&cls));
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &last, &flag));
    CHECK(flag && *last == cls, "MPI_LASTUSEDCODE %d, new class %d", flag ? *last : -1, cls);
    check_string(cls, "");
    MPI_CHECK(MPI_Add_error_string(cls, "my class"));
    MPI_CHECK(MPI_Add_error_code(cls, &c1));
    MPI_CHECK(MPI_Add_error_code(cls, &c2));
    MPI_CHECK(MPI_Add_error_string(c1, "code one"));
    MPI_CHECK(MPI_Add_error_string(c2, "code two"));
    MPI_CHECK(MPI_Error_class(c2, &got));
    CHECK(got == cls, "class of code 2 is %d, want %d", got, cls);

    /* A class with codes, and codes with strings, stay. */
    CHECK_CLASS(MPI_Remove_error_class(cls), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Remove_error_code(c2), MPI_ERR_ARG);
    check_string(c2, "code two");

    MPI_CHECK(MPI_Remove_error_string(c2));
    check_string(c2, "");
    MPI_CHECK(MPI_Remove_error_code(c2));
    CHECK_CLASS(MPI_Remove_error_code(c2), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Error_class(c2, &got), MPI_ERR_ARG);
    /* Code 1 is untouched by the removal of code 2. */
    check_string(c1, "code one");
    CHECK_CLASS(MPI_Remove_error_class(cls), MPI_ERR_ARG);

    MPI_CHECK(MPI_Remove_error_string(c1));
    MPI_CHECK(MPI_Remove_error_code(c1));
    /* No codes left, but the class still has its string. */
    CHECK_CLASS(MPI_Remove_error_class(cls), MPI_ERR_ARG);
    check_string(cls, "my class");
    MPI_CHECK(MPI_Remove_error_string(cls));
    MPI_CHECK(MPI_Remove_error_class(cls));
    CHECK_CLASS(MPI_Remove_error_class(cls), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Error_class(cls, &got), MPI_ERR_ARG);

    /* A class is not a code, nor a code a class. */
    MPI_CHECK(MPI_Add_error_class(&cls));
    MPI_CHECK(MPI_Add_error_code(cls, &c1));
    CHECK_CLASS(MPI_Remove_error_code(cls), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Remove_error_class(c1), MPI_ERR_ARG);
    MPI_CHECK(MPI_Remove_error_code(c1));
    MPI_CHECK(MPI_Remove_error_class(cls));

    /* Predefined classes and codes cannot be removed. */
    CHECK_CLASS(MPI_Remove_error_class(0), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Remove_error_class(MPI_ERR_OTHER), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Remove_error_code(0), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Remove_error_string(0), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Remove_error_string(MPI_ERR_COMM), MPI_ERR_ARG);
    return ot_pass();
}
