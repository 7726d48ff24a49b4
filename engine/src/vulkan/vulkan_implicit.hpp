// The implicit methods (liif, a-liif, lmf; docs/IMPLICIT.md) on the Vulkan backend: the
// encoder and the per-pixel field (analysis) by implicit_conv.comp, the per-query decoders by
// implicit_render.comp. The backend (vulkan_backend.cpp) owns the submissions and the plane
// transfers; this module owns its pipelines, the weights (uploaded once) and the buffers.
#pragma once

#include <functional>
#include <memory>

#include "lerf/backend.hpp"
#include "vk_context.hpp"

namespace lerf::vk {

class VulkanImplicit {
 public:
  using Submit = std::function<void(const char* what, const std::function<void(VkCommandBuffer)>& record)>;
  // Validates the model against the shaders' limits (lerf::Error naming the limit), creates the
  // pipelines and uploads the weights with `submit`.
  VulkanImplicit(std::shared_ptr<Context> ctx, const MethodSetup& setup, const Submit& submit);
  ~VulkanImplicit();
  VulkanImplicit(const VulkanImplicit&) = delete;
  VulkanImplicit& operator=(const VulkanImplicit&) = delete;

  // Rescaling jobs that downscale an axis render with classical bicubic (docs/IMPLICIT.md).
  static bool renders_classical(const PlaneJob& job);

  // A new analysis of a plane of `in`'s size and channels (its device buffers allocated or
  // recycled); then record_analysis records the copy of the packed input bytes (`input`, already
  // uploaded) into it, the encoder and the field for every channel.
  std::shared_ptr<PlaneAnalysis> make_analysis(ConstPlaneView in);
  void record_analysis(VkCommandBuffer cmd, VkBuffer input, const PlaneAnalysis& analysis);

  // Prepares the render of `job` from `analysis` into the packed output buffer `output` (host
  // tables written, descriptors updated), then record_render records it.
  void prepare_render(const PlaneAnalysis& analysis, const PlaneJob& job, VkBuffer output);
  void record_render(VkCommandBuffer cmd);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lerf::vk
