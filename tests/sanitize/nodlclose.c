/* Preloaded by .ci/sanitize only (LD_PRELOAD): dlclose does nothing, so the
 * Vulkan loader cannot unload the driver (libvulkan_lvp.so) and the
 * validation layer (libVkLayer_khronos_validation.so) at vkDestroyInstance.
 * LeakSanitizer reports at exit; by then an unloaded library's frames read
 * "<unknown module>" and no suppression can name it. Keeping them mapped
 * lets lsan.supp suppress exactly those libraries and nothing else. Built
 * without sanitizers; it changes no other behaviour (a library opened again
 * is the one already mapped, as with any library still referenced). */
int dlclose(void *handle);

int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
