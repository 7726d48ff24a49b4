// Helpers of the implicit methods' shaders (docs/IMPLICIT.md): the shared geometry
// (lerf/shared/implicit.inc) and the Vulkan interface limits (vulkan_layout.inc).
#define LERF_FN
#define LERF_CONST const
#include "lerf/shared/implicit.inc"
