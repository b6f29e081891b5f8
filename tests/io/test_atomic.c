/* Atomic replacement's clean-up of killed writers (io/atomic.h,
 * vkvae_atomic_remove_stale): exactly the "<path>.tmp-XXXXXX" files of the
 * given path go, whether crafted or left by a write that never committed;
 * the target, other files' temporaries and near-miss names stay. */
#include <sys/stat.h>

#include "io/atomic.h"
#include "io_test.h"

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void test_crafted(void)
{
    static const char *const stale[] = {"ck.safetensors.tmp-abc123", "ck.safetensors.tmp-Z9y8X7"};
    static const char *const kept[] = {
        "ck.safetensors",          "ck.safetensors.tmp-abc12", "ck.safetensors.tmp-abc1234",
        "ck.safetensors.tmp-ab.12", "other.tmp-abc123",        "ck.safetensorsX.tmp-abc123",
        "xck.safetensors.tmp-abc123",
    };
    for (size_t i = 0; i < sizeof stale / sizeof *stale; i++)
        write_bytes(tmp_path(stale[i]), "x", 1);
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        write_bytes(tmp_path(kept[i]), "y", 1);
    CHECK(vkvae_atomic_remove_stale(tmp_path("ck.safetensors")) == 2);
    for (size_t i = 0; i < sizeof stale / sizeof *stale; i++)
        CHECK(!exists(tmp_path(stale[i])));
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) {
        CHECK(exists(tmp_path(kept[i])));
        remove(tmp_path(kept[i]));
    }
    CHECK(vkvae_atomic_remove_stale(tmp_path("ck.safetensors")) == 0);
    CHECK(vkvae_atomic_remove_stale(tmp_path("no/such/dir/ck.safetensors")) == 0);
}

/* A writer that dies between begin and commit leaves its temporary file;
 * the next owner of the path removes it and the old target is untouched. */
static void test_killed_writer(void)
{
    const char *target = tmp_path("model.safetensors");
    write_bytes(target, "old", 3);
    vkvae_error err = {0};
    vkvae_atomic_file af;
    CHECK(vkvae_atomic_begin(&af, target, &err) == VKVAE_OK);
    CHECK(vkvae_atomic_write(&af, "new data", 8, &err) == VKVAE_OK);
    CHECK(exists(af.tmp_path));
    /* What SIGKILL leaves: the file on disk, nobody to commit or abort. */
    fclose(af.f);
    char *tmp = af.tmp_path;
    free(af.path);
    CHECK(vkvae_atomic_remove_stale(target) == 1);
    CHECK(!exists(tmp));
    free(tmp);
    size_t n = 0;
    unsigned char *old = read_bytes(target, &n);
    CHECK(old && n == 3 && memcmp(old, "old", 3) == 0);
    free(old);
    remove(target);
}

int main(int argc, char **argv)
{
    make_tmpdir(argc, argv, "atomic");
    test_crafted();
    test_killed_writer();
    return finish_tests("io_atomic");
}
