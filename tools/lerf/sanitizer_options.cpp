// Defaults for sanitizer builds of the CLI (scripts/test.sh runs the CLI tests under ASan +
// LeakSanitizer); compiled to nothing otherwise.
//
// Mesa's lavapipe (Mesa 22.3, the Vulkan driver CI uses) makes one 128-byte allocation inside a
// pthread_once initialiser when it loads and never frees it; the Vulkan loader then unloads the
// driver, so LeakSanitizer reports it from an unknown module on every `lerf` run that probes
// Vulkan. Seen on an AMD EPYC machine, not on the Intel machines of earlier sessions; which
// Mesa initialiser it is was not identified (the module is gone when LSan symbolises). The
// suppression matches only allocations made inside a pthread_once / std::call_once
// initialiser (one-time by design), so other leaks, ours or a Vulkan object we forget to
// destroy, are still reported. That frame is only on the recorded stack with the slow unwinder
// (the driver has no frame pointers), which costs little in these short CLI runs.
#if defined(__SANITIZE_ADDRESS__)
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }
extern "C" const char* __lsan_default_options() { return "print_suppressions=0"; }
extern "C" const char* __lsan_default_suppressions() { return "leak:__pthread_once_slow\n"; }
#endif
