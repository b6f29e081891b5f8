/* The data-parallel group of `mpirun -np N vkvae train`: one process a
 * device, MPI_COMM_WORLD its members (session/group.h). MPI is optional at
 * build time (Meson's mpi option, on where found); a build without it
 * refuses a run that mpirun launched, rather than training N copies side
 * by side. A process that fails ends the whole job (MPI_Abort), so the
 * others never wait for it in a collective.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#ifdef VKVAE_HAVE_MPI
#include <mpi.h>
#endif

static vkvae_group group;
static uint32_t local_rank;
static int joined;

/* The size of the job mpirun (or another MPI launcher) started this
 * process in; 0 when it was started on its own. */
static uint32_t launched_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 0)
            return (uint32_t)atoi(v);
    }
    return 0;
}

#ifdef VKVAE_HAVE_MPI
static vkvae_status mpi_allreduce(void *user, void *buf, size_t count, vkvae_reduce_op op,
                                  vkvae_error *err)
{
    (void)user;
    MPI_Datatype type = op == VKVAE_REDUCE_SUM_F32   ? MPI_FLOAT
                        : op == VKVAE_REDUCE_SUM_F64 ? MPI_DOUBLE
                                                     : MPI_UINT64_T;
    size_t size = op == VKVAE_REDUCE_SUM_F32 ? 4 : 8;
    /* MPI counts are ints: a buffer past 2^31 values goes in parts. */
    for (size_t done = 0; done < count;) {
        int n = count - done > INT_MAX ? INT_MAX : (int)(count - done);
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + done * size, n, type,
                               op == VKVAE_REDUCE_MAX_U64 ? MPI_MAX : MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) {
            char why[MPI_MAX_ERROR_STRING];
            int len = 0;
            MPI_Error_string(rc, why, &len);
            return vkvae_fail(err, VKVAE_IO, "rank %u: MPI_Allreduce: %s", group.rank, why);
        }
        done += (size_t)n;
    }
    return VKVAE_OK;
}
#endif

int cli_group_join(int *argc, char ***argv, const vkvae_group **out)
{
    *out = NULL;
    uint32_t size = launched_size();
    if (!size)
        return 0;
#ifdef VKVAE_HAVE_MPI
    int provided, rank, world, local;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return cli_fail(VKVAE_IO, "train: MPI_Init failed (launched by mpirun as one of %u)",
                        size);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local);
    MPI_Comm_free(&node);
    joined = 1;
    local_rank = (uint32_t)local;
    group = (vkvae_group){.rank = (uint32_t)rank, .size = (uint32_t)world,
                          .allreduce = mpi_allreduce};
    *out = &group;
    return 0;
#else
    (void)argc, (void)argv;
    if (size == 1)
        return 0;
    return cli_fail(VKVAE_UNSUPPORTED, "train: launched as one of %u processes, but this vkvae "
                    "was built without MPI (install libopenmpi-dev and rebuild; meson option "
                    "mpi)", size);
#endif
}

uint32_t cli_group_local_rank(void)
{
    return local_rank;
}

int cli_group_leave(int status)
{
#ifdef VKVAE_HAVE_MPI
    if (joined) {
        joined = 0;
        /* A stop (Ctrl-C, SIGTERM) reaches every member at the same step:
         * all end here together. Any other failure may be this member's
         * alone, while the others wait for it in a collective. */
        if (status && status != vkvae_status_exit_code(VKVAE_CANCELLED)) {
            fflush(stdout);
            fflush(stderr);
            MPI_Abort(MPI_COMM_WORLD, status);
        }
        MPI_Finalize();
    }
#endif
    return status;
}
