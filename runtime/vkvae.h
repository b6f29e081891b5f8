/* vkvae: variational autoencoders that train and sample on any Vulkan GPU.
 *
 * The public C API. Conventions (sokol-style):
 *  - desc structs are filled with designated initialisers; a zero field
 *    means "the default" (each default is in the field's comment);
 *  - every fallible call returns a vkvae_status and, given a vkvae_error,
 *    fills it with a one-line message; nothing calls abort() or exit();
 *  - there is no global state: everything hangs off a vkvae_context.
 */
#ifndef VKVAE_H
#define VKVAE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vkvae_context vkvae_context;

typedef enum vkvae_device_type {
    VKVAE_DEVICE_OTHER,
    VKVAE_DEVICE_INTEGRATED,
    VKVAE_DEVICE_DISCRETE,
    VKVAE_DEVICE_VIRTUAL,
    VKVAE_DEVICE_CPU,
} vkvae_device_type;

/* What `vkvae info` shows of one Vulkan physical device. */
typedef struct vkvae_device_info {
    char name[256];
    vkvae_device_type type;
    char driver_name[256];
    char driver_info[256];
    uint32_t api_version;            /* VK_MAKE_API_VERSION encoded */
    uint32_t driver_version;
    uint32_t vendor_id, device_id;
    uint32_t heap_count;
    uint64_t heap_size[16];
    int heap_device_local[16];
    int unified_memory;              /* device-local memory is host-visible */
    uint32_t subgroup_size, subgroup_min, subgroup_max;
    uint32_t max_shared_memory;      /* bytes per workgroup */
    uint32_t max_invocations;        /* per workgroup */
    uint32_t max_workgroup_size[3];
    uint64_t max_storage_buffer_range;
    int fp16, int8, storage16, subgroup_arithmetic, cooperative_matrix;
    float timestamp_period_ns;       /* 0: no timestamps on the compute queue */
} vkvae_device_info;

/* Receives each validation message (after it is counted). */
typedef void (*vkvae_message_fn)(const char *message, void *user);

typedef struct vkvae_context_desc {
    const char *device;      /* device index or name substring; NULL: $VKVAE_DEVICE, else the best */
    int validation;          /* 1: Khronos validation with synchronization validation;
                                0: on if $VKVAE_VALIDATION=1; -1: off */
    int quiet_validation;    /* 1: count validation messages without printing them; 0: print */
    uint64_t timeout_ns;     /* longest wait on one submission; 0: 60 s */
    vkvae_message_fn on_validation_message; /* also called during destroy; NULL: none */
    void *user;              /* passed to on_validation_message */
} vkvae_context_desc;

/* Creates the Vulkan instance and device and picks one compute queue. */
vkvae_status vkvae_context_create(const vkvae_context_desc *desc, vkvae_context **out,
                                  vkvae_error *err);
/* Waits for the device, destroys everything and saves the pipeline cache. */
void vkvae_context_destroy(vkvae_context *ctx);

/* All Vulkan devices and the index of the one this context uses. */
const vkvae_device_info *vkvae_context_devices(const vkvae_context *ctx, uint32_t *count);
uint32_t vkvae_context_device_index(const vkvae_context *ctx);

/* Number of validation messages (warnings and errors) seen so far. */
uint32_t vkvae_validation_message_count(const vkvae_context *ctx);

/* Lists the devices without creating one (what `vkvae info` prints when the
 * choice fails). *out is malloc'd; free() it. */
vkvae_status vkvae_devices_query(vkvae_device_info **out, uint32_t *count, vkvae_error *err);

/* Picks a device from a list: selector is an index ("1") or a
 * case-insensitive name substring ("llvm"); NULL or "" picks the best by
 * type: discrete, integrated, virtual, CPU, other. Returns the index, or -1
 * with a message in err that lists the devices. */
int vkvae_device_choose(const vkvae_device_info *devices, uint32_t count, const char *selector,
                        vkvae_error *err);

const char *vkvae_device_type_name(vkvae_device_type t);

#ifdef __cplusplus
}
#endif
#endif
