// Defaults for sanitizer builds of the CLI (scripts/test.sh runs the CLI tests under ASan +
// LeakSanitizer); compiled to nothing otherwise.
//
// Mesa's lavapipe (the Vulkan driver CI uses) allocates its CPU-topology tables once when it
// loads and never frees them (seen on AMD CPUs, Mesa 22.3); the Vulkan loader then unloads the
// driver, so LeakSanitizer reports 128 bytes from an unknown module on every `lerf` run that
// probes Vulkan. The suppression names the loader, which is on the stack of that allocation;
// the stack is only complete with the slow unwinder (the driver has no frame pointers), which
// costs little in these short CLI runs. Our own leaks are still reported: their stacks do not
// pass through the Vulkan loader.
#if defined(__SANITIZE_ADDRESS__)
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }
extern "C" const char* __lsan_default_options() { return "print_suppressions=0"; }
extern "C" const char* __lsan_default_suppressions() { return "leak:libvulkan.so.1\n"; }
#endif
