// The Vulkan compute backend: the CPU backend's methods as compute shaders (shaders/*.comp).
//
// Planes travel as tightly packed bytes in uint storage buffers: rows are repacked on upload
// (any stride) into a persistent staging buffer, copied to device-local buffers, processed
// by one or more dispatches and copied back in the same command buffer. Every buffer is
// kept and only reallocated when a larger plane arrives, so steady-state video allocates
// nothing; LeRF analyses own their device buffers (stage-1 image, hyperparameters), which
// return to a small free list when the analysis is released.
#include "vulkan_backend.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <utility>

#include "../cpu/imlut_cpu.hpp"
#include "lerf/error.hpp"
#include "lerf/imlut.hpp"
#include "lerf/kernels.hpp"
#include "lerf/vulkan_device.hpp"
#include "lerf_spirv.hpp"
#include "vk_context.hpp"
#include "vulkan_implicit.hpp"

namespace lerf {

namespace shared {
#define LERF_FN constexpr
#define LERF_CONST inline constexpr
#include "lerf/shared/lut.inc"
#include "lerf/shared/vulkan_layout.inc"
#undef LERF_CONST
#undef LERF_FN
// The shaders' LUT geometry is the engine's.
static_assert(lerf_lut_levels == kLutLevels && lerf_lut_entries == kLutEntries && lerf_lut_patterns == kLutPatterns);
}  // namespace shared

namespace vk {
namespace {

// Push constants, laid out as the shaders' `Params` blocks (4-byte scalars only).
struct HPassParams {
  std::int32_t in_w, in_h, ch, out_w, kernel, taps, border, axis_off;
  float stretch, cubic_a;
};
struct VPassParams {
  std::int32_t in_w, in_h, ch, out_w, out_h, kernel, taps, border;
  std::uint32_t border_value;
  std::int32_t out_bytes;
  float stretch, cubic_a;
  std::int32_t axis_off;
};
struct GeneralParams {
  std::int32_t in_w, in_h, ch, out_w, out_h, kernel, r, border;
  std::uint32_t border_value;
  std::int32_t out_bytes;
  float cubic_a;
  float m[9];
};
struct Stage1Params {
  std::int32_t w, h, ch, bytes;
};
struct Stage2Params {
  std::int32_t w, h, ch, outputs, bytes;
};
struct RenderParams {
  std::int32_t in_w, in_h, ch, outputs, out_w, out_h, gaussian, separable, border;
  std::uint32_t border_value;
  std::int32_t out_bytes, n_x, n_y, off_x, off_y;
  float s_x, s_y;
  float m[9];
  std::int32_t axis_off;
};
struct ImLutSumsParams {
  std::int32_t w, h, ch, columns, col0, ncols, pairs, words;
};
struct ImLutMixParams {
  std::int32_t in_w, in_h, ch, out_w, out_h, K, separable, border;
  std::uint32_t border_value;
  std::int32_t out_bytes, comp_stride, stride, bin_lo, bin_hi, bins, affine, axis_off;
  float t, scale_first, scale_step;
  float m[9];
};
constexpr std::uint32_t kPushBytes = 128;  // the minimum every device guarantees
static_assert(sizeof(HPassParams) <= kPushBytes && sizeof(VPassParams) <= kPushBytes &&
              sizeof(GeneralParams) <= kPushBytes && sizeof(RenderParams) <= kPushBytes &&
              sizeof(ImLutMixParams) <= kPushBytes);

// An entry of the per-axis tables of separable maps (common_axis.glsl).
struct AxisEntry {
  std::int32_t base;
  float frac;
  std::uint32_t inside;
};
static_assert(sizeof(AxisEntry) == 12);

enum Slot { kHPass, kVPass, kGeneral, kStage1, kStage2, kRender, kImLutSums, kImLutMix, kSlots };
constexpr std::uint32_t kBindings = 4;  // 0 source, 1 intermediate, 2 destination, 3 LUT or axis table

std::span<const std::uint32_t> slot_code(Slot s) {
  switch (s) {
    case kHPass: return spirv::classical_hpass;
    case kVPass: return spirv::classical_vpass;
    case kGeneral: return spirv::resample_general;
    case kStage1: return spirv::lerf_stage1;
    case kStage2: return spirv::lerf_stage2;
    case kImLutSums: return spirv::imlut_sums;
    case kImLutMix: return spirv::imlut_mix;
    default: return spirv::lerf_render;
  }
}

std::int32_t border_code(Border b) {
  switch (b) {
    case Border::Constant: return LERF_VK_BORDER_CONSTANT;
    case Border::Reflect: return LERF_VK_BORDER_REFLECT;
    default: return LERF_VK_BORDER_CLAMP;
  }
}

std::int32_t kernel_code(Method m) {
  switch (m) {
    case Method::Bilinear: return LERF_VK_KERNEL_LINEAR;
    case Method::Bicubic: return LERF_VK_KERNEL_CUBIC;
    case Method::Lanczos: return LERF_VK_KERNEL_LANCZOS3;
    default: return LERF_VK_KERNEL_NEAREST;
  }
}

std::uint32_t pack_border(const PlaneJob& job) {
  return job.border_value[0] | (job.border_value[1] << 8) | (job.border_value[2] << 16) |
         (static_cast<std::uint32_t>(job.border_value[3]) << 24);
}

void copy_matrix(const Matrix3& m, float* out) {
  for (int i = 0; i < 9; ++i) out[i] = static_cast<float>(m.m[i]);
}

std::size_t plane_bytes(Size s, int channels) {
  return static_cast<std::size_t>(s.width) * s.height * channels;
}

// The device buffers of one LeRF or IM-LUT analysis (a size of 0: not used), and a free list
// that recycles them.
struct LerfBuffers {
  std::unique_ptr<Buffer> filtered, hyper;
  std::unique_ptr<Buffer> source;  // im-lut: a copy of the input plane (sums, classical components)
};

class Recycler {
 public:
  std::unique_ptr<LerfBuffers> take(VkDeviceSize filtered, VkDeviceSize hyper, VkDeviceSize source = 0) {
    auto fits = [](const std::unique_ptr<Buffer>& b, VkDeviceSize size) { return size == 0 || (b && b->size() >= size); };
    std::lock_guard lock(mutex_);
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (fits((*it)->filtered, filtered) && fits((*it)->hyper, hyper) && fits((*it)->source, source)) {
        auto b = std::move(*it);
        free_.erase(it);
        return b;
      }
    return nullptr;
  }
  void give(std::unique_ptr<LerfBuffers> b) {
    if (!b) return;
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(b));
    if (free_.size() > kKeep) free_.erase(free_.begin());
  }

 private:
  static constexpr std::size_t kKeep = 4;
  std::mutex mutex_;
  std::vector<std::unique_ptr<LerfBuffers>> free_;
};

struct VulkanLerfAnalysis final : PlaneAnalysis {
  std::unique_ptr<LerfBuffers> buffers;
  std::weak_ptr<Recycler> recycler;
  int outputs = 0;
  ~VulkanLerfAnalysis() override {
    if (auto r = recycler.lock()) r->give(std::move(buffers));
  }
};

// Device objects created once per backend, destroyed in reverse order even when the
// constructor fails half-way.
struct Objects {
  std::shared_ptr<Context> ctx;
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkDescriptorPool pool = VK_NULL_HANDLE;
  std::array<VkPipeline, kSlots> pipelines{};
  std::array<VkDescriptorSet, kSlots> sets{};
  VkCommandPool cmd_pool = VK_NULL_HANDLE;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;

  ~Objects() {
    if (!ctx) return;
    VkDevice d = ctx->device();
    vkDeviceWaitIdle(d);
    if (fence) vkDestroyFence(d, fence, nullptr);
    if (cmd_pool) vkDestroyCommandPool(d, cmd_pool, nullptr);
    for (VkPipeline p : pipelines)
      if (p) vkDestroyPipeline(d, p, nullptr);
    if (pool) vkDestroyDescriptorPool(d, pool, nullptr);
    if (layout) vkDestroyPipelineLayout(d, layout, nullptr);
    if (set_layout) vkDestroyDescriptorSetLayout(d, set_layout, nullptr);
  }
};

// Test hook: LERF_VK_TEST_LOSE_DEVICE_AFTER=N makes every submission after the first N of a
// backend fail as VK_ERROR_DEVICE_LOST would (the device is not touched); -1 when unset.
long lose_device_after() {
  const char* v = std::getenv("LERF_VK_TEST_LOSE_DEVICE_AFTER");
  if (!v || !*v) return -1;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return end && *end == '\0' && n >= 0 ? n : -1;
}

class VulkanBackend final : public DeviceBackend {
 public:
  VulkanBackend(const MethodSetup& setup, int device_index) : VulkanBackend(setup) {
    init(std::make_shared<Context>(device_index));
  }
  VulkanBackend(const MethodSetup& setup, const ExternalDevice& device) : VulkanBackend(setup) {
    init(std::make_shared<Context>(device));
  }

 private:
  explicit VulkanBackend(const MethodSetup& setup)
      : setup_(setup),
        kernel_(is_classical(setup.method) ? kernels::classical_kernel(setup.method, setup.cubic_a)
                : is_implicit(setup.method)  // downscaling renders with classical bicubic
                    ? kernels::classical_kernel(Method::Bicubic, setup.cubic_a)
                    : kernels::Classical{Method::Nearest, 0.5f, setup.cubic_a}) {
    if (!is_classical(setup.method) && setup.method != Method::LerfG && setup.method != Method::LerfL &&
        setup.method != Method::ImLut && !is_implicit(setup.method))
      throw Error(std::string(method_name(setup.method)) + " has no Vulkan implementation");
    if (!is_classical(setup.method) && !setup.model)
      throw Error(std::string(method_name(setup.method)) + " needs a model");
  }

  void init(std::shared_ptr<Context> ctx) {
    o_.ctx = std::move(ctx);
    if (o_.ctx->max_push_constants() < kPushBytes) throw Error("Vulkan: device has too few push-constant bytes");
    create_objects();
    if (is_implicit(setup_.method)) {
      implicit_ = std::make_unique<VulkanImplicit>(
          o_.ctx, setup_, [this](const char* what, const std::function<void(VkCommandBuffer)>& record) {
            submit(what, record);
          });
    } else if (setup_.method == Method::ImLut) {
      if (imlut_has_lerf()) upload_luts(setup_.model->lut);
      upload_imlut_tables(setup_.model->imlut);
    } else if (setup_.model) {
      upload_luts(setup_.model->lut);
    }
  }

  // Whether the im-lut model mixes a lerf-g component (whose LeRF analysis is then made).
  bool imlut_has_lerf() const {
    const auto& c = setup_.model->imlut.components;
    return std::find(c.begin(), c.end(), Method::LerfG) != c.end();
  }

 public:

  BackendKind kind() const override { return BackendKind::Vulkan; }
  std::string description() const override {
    return "vulkan (" + o_.ctx->name() + ", " + device_type_name(o_.ctx->type()) + ")";
  }

  std::shared_ptr<const PlaneAnalysis> analyse(ConstPlaneView in) override {
    check_plane(in, "input plane");
    std::lock_guard lock(mutex_);
    return analyse_locked(in);
  }

  ImageJobResult render_image(const ImageJob& job) override {
    for (const DeviceImage* im : {&job.in, &job.out}) {
      if (!im->image) throw Error("Vulkan: null image");
      if (im->width <= 0 || im->height <= 0 || im->channels < 1 || im->channels > 4)
        throw Error("Vulkan: image of unsupported size or channel count");
    }
    if (job.in.channels != job.out.channels) throw Error("input and output images differ in channel count");
    if (!job.map.out_to_in.is_finite()) throw Error("coordinate map is not finite");
    std::lock_guard lock(mutex_);
    image_job_ = &job;
    in_layout_ = job.in.layout;
    struct Reset {
      const ImageJob*& p;
      ~Reset() { p = nullptr; }
    } reset{image_job_};
    // The planes' sizes only: in image mode no host byte is read or written.
    static std::uint8_t no_data = 0;
    const int ch = job.in.channels;
    PlaneJob pj;
    pj.in = ConstPlaneView{&no_data, job.in.width, job.in.height, static_cast<std::ptrdiff_t>(job.in.width) * ch, ch};
    pj.out = PlaneView{&no_data, job.out.width, job.out.height, static_cast<std::ptrdiff_t>(job.out.width) * ch, ch};
    pj.map = job.map;
    pj.border = job.border;
    pj.border_value = job.border_value;
    if (is_classical(setup_.method) || (implicit_ && VulkanImplicit::renders_classical(pj))) render_classical(pj);
    else render_learned(*analyse_locked(pj.in), pj);
    ImageJobResult r;
    r.in = {job.final_layout, VK_ACCESS_TRANSFER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT};
    r.out = {job.final_layout, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT};
    return r;
  }

  void render_buffer(const BufferJob& job) override {
    for (const DeviceBuffer* b : {&job.in, &job.out}) {
      if (!b->buffer) throw Error("Vulkan: null buffer");
      if (b->width <= 0 || b->height <= 0 || b->channels < 1 || b->channels > 4)
        throw Error("Vulkan: buffer plane of unsupported size or channel count");
      if (b->stride < static_cast<VkDeviceSize>(b->width) * b->channels)
        throw Error("Vulkan: buffer plane stride smaller than a row");
    }
    if (job.in.channels != job.out.channels) throw Error("input and output buffers differ in channel count");
    if (!job.map.out_to_in.is_finite()) throw Error("coordinate map is not finite");
    std::lock_guard lock(mutex_);
    buffer_job_ = &job;
    struct Reset {
      const BufferJob*& p;
      ~Reset() { p = nullptr; }
    } reset{buffer_job_};
    static std::uint8_t no_data = 0;
    const int ch = job.in.channels;
    PlaneJob pj;
    pj.in = ConstPlaneView{&no_data, job.in.width, job.in.height, static_cast<std::ptrdiff_t>(job.in.width) * ch, ch};
    pj.out = PlaneView{&no_data, job.out.width, job.out.height, static_cast<std::ptrdiff_t>(job.out.width) * ch, ch};
    pj.map = job.map;
    pj.border = job.border;
    pj.border_value = job.border_value;
    if (is_classical(setup_.method) || (implicit_ && VulkanImplicit::renders_classical(pj))) render_classical(pj);
    else render_learned(*analyse_locked(pj.in), pj);
  }

 private:
  bool device_io() const { return image_job_ || buffer_job_; }

  // Row copies between a strided plane and a tightly packed one (one region when packed).
  static std::vector<VkBufferCopy> row_regions(const DeviceBuffer& b, bool to_plane) {
    const VkDeviceSize row = static_cast<VkDeviceSize>(b.width) * b.channels;
    std::vector<VkBufferCopy> r;
    if (b.stride == row) {
      r.push_back(to_plane ? VkBufferCopy{0, b.offset, row * b.height} : VkBufferCopy{b.offset, 0, row * b.height});
      return r;
    }
    r.reserve(static_cast<std::size_t>(b.height));
    for (int y = 0; y < b.height; ++y) {
      const VkDeviceSize strided = b.offset + b.stride * y, packed = row * y;
      r.push_back(to_plane ? VkBufferCopy{packed, strided, row} : VkBufferCopy{strided, packed, row});
    }
    return r;
  }

  std::shared_ptr<const PlaneAnalysis> analyse_locked(ConstPlaneView in) {
    if (is_classical(setup_.method)) {
      auto a = std::make_shared<PlaneAnalysis>();
      a->input_size = in.size();
      a->channels = in.channels;
      return a;
    }
    if (implicit_) {
      const std::size_t in_bytes = plane_bytes(in.size(), in.channels);
      upload(in);
      auto a = implicit_->make_analysis(in);
      submit("implicit analysis", [&](VkCommandBuffer cmd) {
        record_upload(cmd, in_bytes);
        implicit_->record_analysis(cmd, input_->handle(), *a);
      });
      return a;
    }
    // LeRF: stage 1 and 2. IM-LUT: a copy of the input (the mixing sums depend on the scale,
    // so they are computed at render), and the lerf-g component's stages when it is mixed.
    const bool imlut = setup_.method == Method::ImLut;
    const bool lerf = !imlut || imlut_has_lerf();
    const int outputs = lerf ? setup_.model->lut.stage2_outputs : 0;
    const std::size_t bytes = plane_bytes(in.size(), in.channels);
    auto a = std::make_shared<VulkanLerfAnalysis>();
    a->input_size = in.size();
    a->channels = in.channels;
    a->outputs = outputs;
    a->recycler = recycler_;
    const std::size_t filtered_bytes = lerf ? bytes : 0, source_bytes = imlut ? bytes : 0;
    a->buffers = recycler_->take(filtered_bytes, filtered_bytes * outputs, source_bytes);
    if (!a->buffers) {
      a->buffers = std::make_unique<LerfBuffers>();
      if (lerf) {
        ensure_buffer(a->buffers->filtered, o_.ctx, bytes, Buffer::Kind::Device);
        ensure_buffer(a->buffers->hyper, o_.ctx, bytes * outputs, Buffer::Kind::Device);
      }
      if (imlut) ensure_buffer(a->buffers->source, o_.ctx, bytes, Buffer::Kind::Device);
    }
    upload(in);
    if (!lerf) {
      submit("IM-LUT analysis", [&](VkCommandBuffer cmd) {
        record_upload(cmd, bytes);
        record_source_copy(cmd, *a, bytes);
      });
      return a;
    }
    VkBuffer filtered = a->buffers->filtered->handle(), hyper = a->buffers->hyper->handle();
    bind(kStage1, {{0, input_->handle()}, {2, filtered}, {3, lut1_->handle()}});
    bind(kStage2, {{0, filtered}, {2, hyper}, {3, lut2_->handle()}});
    submit(imlut ? "IM-LUT analysis" : "LeRF analysis", [&](VkCommandBuffer cmd) {
      record_upload(cmd, bytes);
      if (imlut) record_source_copy(cmd, *a, bytes);
      Stage1Params p1{in.width, in.height, in.channels, static_cast<std::int32_t>(bytes)};
      dispatch(cmd, kStage1, p1, (bytes + 3) / 4);
      barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
              VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
      Stage2Params p2{in.width, in.height, in.channels, outputs, static_cast<std::int32_t>(bytes * outputs)};
      dispatch(cmd, kStage2, p2, (bytes * outputs + 3) / 4);
    });
    return a;
  }

  // The uploaded input plane (input_) copied into the analysis's own buffer, which the
  // render reads (input_ is reused by the next upload).
  void record_source_copy(VkCommandBuffer cmd, const VulkanLerfAnalysis& a, std::size_t bytes) {
    barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_TRANSFER_READ_BIT);
    VkBufferCopy r{0, 0, words(bytes)};
    vkCmdCopyBuffer(cmd, input_->handle(), a.buffers->source->handle(), 1, &r);
    barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
            VK_ACCESS_SHADER_READ_BIT);
  }

 public:
  void render(const PlaneAnalysis& analysis, const PlaneJob& job) override {
    check_plane(job.in, "input plane");
    check_plane(job.out, "output plane");
    if (job.in.channels != job.out.channels) throw Error("input and output planes differ in channel count");
    if (!(analysis.input_size == job.in.size()) || analysis.channels != job.in.channels)
      throw Error("analysis does not belong to this input plane");
    if (!job.map.out_to_in.is_finite()) throw Error("coordinate map is not finite");
    std::lock_guard lock(mutex_);
    if (is_classical(setup_.method)) render_classical(job);
    else render_learned(analysis, job);
  }

  void download_analysis(const PlaneAnalysis& analysis, std::vector<std::uint8_t>& filtered,
                         std::vector<std::uint8_t>& hyper) {
    auto* a = dynamic_cast<const VulkanLerfAnalysis*>(&analysis);
    if (!a) throw Error("not a Vulkan LeRF analysis");
    std::lock_guard lock(mutex_);
    const std::size_t fb = plane_bytes(a->input_size, a->channels), hb = fb * a->outputs;
    ensure_buffer(staging_out_, o_.ctx, fb + hb, Buffer::Kind::Download);
    submit("analysis download", [&](VkCommandBuffer cmd) {
      VkBufferCopy r1{0, 0, fb}, r2{0, fb, hb};
      vkCmdCopyBuffer(cmd, a->buffers->filtered->handle(), staging_out_->handle(), 1, &r1);
      vkCmdCopyBuffer(cmd, a->buffers->hyper->handle(), staging_out_->handle(), 1, &r2);
      barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
              VK_ACCESS_HOST_READ_BIT);
    });
    filtered.assign(staging_out_->mapped(), staging_out_->mapped() + fb);
    hyper.assign(staging_out_->mapped() + fb, staging_out_->mapped() + fb + hb);
  }

 private:
  void create_objects() {
    VkDevice d = o_.ctx->device();
    std::array<VkDescriptorSetLayoutBinding, kBindings> b{};
    for (std::uint32_t i = 0; i < kBindings; ++i)
      b[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo sl{};
    sl.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
    sl.bindingCount = kBindings;
    sl.pBindings = b.data();
    check(vkCreateDescriptorSetLayout(d, &sl, nullptr, &o_.set_layout), "vkCreateDescriptorSetLayout");
    VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes};
    VkPipelineLayoutCreateInfo pl{};
    pl.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
    pl.setLayoutCount = 1;
    pl.pSetLayouts = &o_.set_layout;
    pl.pushConstantRangeCount = 1;
    pl.pPushConstantRanges = &range;
    check(vkCreatePipelineLayout(d, &pl, nullptr, &o_.layout), "vkCreatePipelineLayout");

    VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSlots * kBindings};
    VkDescriptorPoolCreateInfo dp{};
    dp.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
    dp.maxSets = kSlots;
    dp.poolSizeCount = 1;
    dp.pPoolSizes = &size;
    check(vkCreateDescriptorPool(d, &dp, nullptr, &o_.pool), "vkCreateDescriptorPool");
    std::array<VkDescriptorSetLayout, kSlots> layouts;
    layouts.fill(o_.set_layout);
    VkDescriptorSetAllocateInfo da{};
    da.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
    da.descriptorPool = o_.pool;
    da.descriptorSetCount = kSlots;
    da.pSetLayouts = layouts.data();
    check(vkAllocateDescriptorSets(d, &da, o_.sets.data()), "vkAllocateDescriptorSets");

    // Only the pipelines of this backend's method (pipeline compilation is slow on lavapipe).
    std::vector<Slot> slots;
    if (is_classical(setup_.method) || is_implicit(setup_.method)) slots = {kHPass, kVPass, kGeneral};
    else if (setup_.method != Method::ImLut) slots = {kStage1, kStage2, kRender};
    else {
      slots = {kHPass, kVPass, kGeneral, kImLutSums, kImLutMix};
      if (imlut_has_lerf()) slots.insert(slots.end(), {kStage1, kStage2, kRender});
    }
    for (Slot s : slots) {
      o_.pipelines[s] = create_compute_pipeline(d, slot_code(s), o_.layout);
    }

    VkCommandPoolCreateInfo cpool{};
    cpool.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    cpool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    cpool.queueFamilyIndex = o_.ctx->queue_family();
    check(vkCreateCommandPool(d, &cpool, nullptr, &o_.cmd_pool), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo ca{};
    ca.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    ca.commandPool = o_.cmd_pool;
    ca.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ca.commandBufferCount = 1;
    check(vkAllocateCommandBuffers(d, &ca, &o_.cmd), "vkAllocateCommandBuffers");
    VkFenceCreateInfo fi{};
    fi.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    check(vkCreateFence(d, &fi, nullptr, &o_.fence), "vkCreateFence");
  }

  // The LUTs, once per backend: stage 1 tables s, c, t; stage 2 tables (p, d) in order.
  void upload_luts(const LutModel& lut) {
    const std::size_t e = kLutEntries, n = static_cast<std::size_t>(lut.stage2_outputs);
    for (const auto& t : lut.stage1)
      if (t.size() != e) throw Error("LeRF model: stage-1 table of unexpected size");
    for (const auto& p : lut.stage2)
      for (const auto& t : p)
        if (t.size() != e * n) throw Error("LeRF model: stage-2 table of unexpected size");
    const std::size_t b1 = kLutPatterns * e, b2 = kLutPatterns * 2 * e * n;
    ensure_buffer(lut1_, o_.ctx, b1, Buffer::Kind::Device);
    ensure_buffer(lut2_, o_.ctx, b2, Buffer::Kind::Device);
    Buffer staging(o_.ctx, (b1 + b2 + 3) & ~std::size_t{3}, Buffer::Kind::Upload);
    std::uint8_t* dst = staging.mapped();
    for (const auto& t : lut.stage1) dst = std::copy_n(reinterpret_cast<const std::uint8_t*>(t.data()), e, dst);
    for (const auto& p : lut.stage2)
      for (const auto& t : p) dst = std::copy_n(reinterpret_cast<const std::uint8_t*>(t.data()), e * n, dst);
    submit("LUT upload", [&](VkCommandBuffer cmd) {
      VkBufferCopy r1{0, 0, b1}, r2{b1, 0, b2};
      vkCmdCopyBuffer(cmd, staging.handle(), lut1_->handle(), 1, &r1);
      vkCmdCopyBuffer(cmd, staging.handle(), lut2_->handle(), 1, &r2);
    });
  }

  // A classical rescale or warp of `job` (input in binding 0 of kHPass / kGeneral), ready to
  // record: push constants and, for separable maps, the per-axis tables written at
  // table[axis_off..] (out.width + out.height entries).
  struct ClassicalPlan {
    bool separable = false;
    HPassParams hp{};
    VPassParams vp{};
    GeneralParams gp{};
    std::size_t out_bytes = 0;
  };
  ClassicalPlan plan_classical(const kernels::Classical& kernel, const PlaneJob& job, AxisEntry* table,
                               int axis_off) const {
    const auto& in = job.in;
    const auto& out = job.out;
    const int ch = in.channels;
    const auto& m = job.map.out_to_in.m;
    const std::int32_t kcode = kernel_code(kernel.method), border = border_code(job.border);
    const bool nearest = kernel.method == Method::Nearest;
    ClassicalPlan p;
    p.separable = job.map.is_separable();
    p.out_bytes = plane_bytes(out.size(), ch);
    if (p.separable) {
      // Tap counts and first taps exactly as classical_axis_taps computes them (in double).
      auto fill = [&](AxisEntry* t, int in_len, int out_len, double a, double b, double& stretch) {
        stretch = std::max(1.0, a);
        const double radius = kernel.radius * stretch;
        for (int o = 0; o < out_len; ++o) {
          const double x = a * o + b;
          const double base = nearest ? std::floor(x + 0.5) : std::ceil(x - radius);
          t[o] = {static_cast<std::int32_t>(base), nearest ? 0.0f : static_cast<float>(x - base),
                  x >= -0.5 && x <= in_len - 0.5};
        }
        return nearest ? 1 : static_cast<int>(std::ceil(2 * radius)) + 1;
      };
      double sx, sy;
      int tx = fill(table + axis_off, in.width, out.width, m[0], m[2], sx);
      int ty = fill(table + axis_off + out.width, in.height, out.height, m[4], m[5], sy);
      p.hp = {in.width, in.height, ch, out.width, kcode, tx, border, axis_off, static_cast<float>(sx), kernel.cubic_a};
      p.vp = {in.width, in.height, ch, out.width, out.height, kcode, ty, border, pack_border(job),
              static_cast<std::int32_t>(p.out_bytes), static_cast<float>(sy), kernel.cubic_a, axis_off};
    } else {
      p.gp = {in.width, in.height, ch, out.width, out.height, kcode,
              nearest ? 0 : static_cast<std::int32_t>(std::ceil(kernel.radius)), border, pack_border(job),
              static_cast<std::int32_t>(p.out_bytes), kernel.cubic_a, {}};
      copy_matrix(job.map.out_to_in, p.gp.m);
    }
    return p;
  }

  // Binds the classical slots: input `src`, output output_, (separable) tmp_ and axis_.
  void bind_classical(const PlaneJob& job, VkBuffer src) {
    if (job.map.is_separable()) {
      ensure_buffer(tmp_, o_.ctx,
                    static_cast<std::size_t>(job.in.height) * job.out.width * job.in.channels * sizeof(float),
                    Buffer::Kind::Device);
      bind(kHPass, {{0, src}, {1, tmp_->handle()}, {3, axis_->handle()}});
      bind(kVPass, {{1, tmp_->handle()}, {2, output_->handle()}, {3, axis_->handle()}});
    } else {
      bind(kGeneral, {{0, src}, {2, output_->handle()}});
    }
  }

  void record_classical(VkCommandBuffer cmd, const ClassicalPlan& p) {
    if (p.separable) {
      dispatch(cmd, kHPass, p.hp, static_cast<std::size_t>(p.hp.in_h) * p.hp.out_w * p.hp.ch);
      barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
              VK_ACCESS_SHADER_READ_BIT);
      dispatch(cmd, kVPass, p.vp, (p.out_bytes + 3) / 4);
    } else {
      dispatch(cmd, kGeneral, p.gp, (p.out_bytes + 3) / 4);
    }
  }

  // IM-LUT's mixing tables, once per backend: imlut_s, _c, _t (int8, kLutEntries x columns) in order.
  void upload_imlut_tables(const ImLutModel& m) {
    const std::size_t n = static_cast<std::size_t>(kLutEntries) * m.columns();
    if (m.components.empty() || m.scale_bins < 1) throw Error("IM-LUT model: no components or scale bins");
    for (const auto& t : m.tables)
      if (t.size() != n) throw Error("IM-LUT model: mixing table of unexpected size");
    const std::size_t bytes = kLutPatterns * n;
    ensure_buffer(imlut_lut_, o_.ctx, bytes, Buffer::Kind::Device);
    Buffer staging(o_.ctx, words(bytes), Buffer::Kind::Upload);
    std::uint8_t* dst = staging.mapped();
    for (const auto& t : m.tables) dst = std::copy_n(reinterpret_cast<const std::uint8_t*>(t.data()), n, dst);
    submit("IM-LUT table upload", [&](VkCommandBuffer cmd) {
      VkBufferCopy r{0, 0, words(bytes)};
      vkCmdCopyBuffer(cmd, staging.handle(), imlut_lut_->handle(), 1, &r);
    });
  }

  void render_classical(const PlaneJob& job) {
    const auto& in = job.in;
    const auto& out = job.out;
    const std::size_t in_bytes = plane_bytes(in.size(), in.channels), out_bytes = plane_bytes(out.size(), in.channels);
    upload(in);
    ensure_buffer(output_, o_.ctx, out_bytes, Buffer::Kind::Device);
    ensure_buffer(staging_out_, o_.ctx, out_bytes, Buffer::Kind::Download);
    const bool separable = job.map.is_separable();
    const int entries = separable ? out.width + out.height : 1;
    AxisEntry* table = axis_table(entries);
    ClassicalPlan p = plan_classical(kernel_, job, table, 0);
    bind_classical(job, input_->handle());
    submit(separable ? "classical rescale" : "classical warp", [&](VkCommandBuffer cmd) {
      if (separable) record_axis_upload(cmd, entries);
      record_upload(cmd, in_bytes);
      record_classical(cmd, p);
      record_download(cmd, out_bytes);
    });
    unpack(out);
  }

  // LeRF render push constants for `job`; separable maps write their per-axis tables at
  // table[axis_off..] (out.width + out.height entries).
  RenderParams plan_lerf(bool gaussian, int outputs, const PlaneJob& job, AxisEntry* table, int axis_off) const {
    const auto& out = job.out;
    RenderParams p{};
    p.in_w = job.in.width;
    p.in_h = job.in.height;
    p.ch = job.in.channels;
    p.outputs = outputs;
    p.out_w = out.width;
    p.out_h = out.height;
    p.gaussian = gaussian;
    p.separable = job.map.is_separable();
    p.border = border_code(job.border);
    p.border_value = pack_border(job);
    p.out_bytes = static_cast<std::int32_t>(plane_bytes(out.size(), job.in.channels));
    p.axis_off = axis_off;
    copy_matrix(job.map.out_to_in, p.m);
    if (p.separable) {
      // Per-axis taps exactly as lerf_axis_taps computes them (in double), capped as the CPU.
      auto fill = [](AxisEntry* t, int in_len, int out_len, double a, double b, std::int32_t& n, std::int32_t& off,
                     float& s) {
        const double sd = std::min(1.0, 1.0 / a);
        const int count = sd >= 1.0 ? 2 : static_cast<int>(std::ceil(2.0 / sd));
        n = std::min(count, LERF_VK_MAX_TAPS);
        off = (count - n) / 2;
        s = static_cast<float>(sd);
        for (int o = 0; o < out_len; ++o) {
          const double x = a * o + b;
          const double left = std::ceil(x - count / 2.0 - 1e-4);
          t[o] = {static_cast<std::int32_t>(left), static_cast<float>(x - left), x >= -0.5 && x <= in_len - 0.5};
        }
      };
      const auto& m = job.map.out_to_in.m;
      fill(table + axis_off, job.in.width, out.width, m[0], m[2], p.n_x, p.off_x, p.s_x);
      fill(table + axis_off + out.width, job.in.height, out.height, m[4], m[5], p.n_y, p.off_y, p.s_y);
    }
    return p;
  }

  void render_learned(const PlaneAnalysis& analysis, const PlaneJob& job) {
    if (implicit_) render_implicit(analysis, job);
    else if (setup_.method == Method::ImLut) render_imlut(analysis, job);
    else render_lerf(analysis, job);
  }

  // liif, a-liif, lmf (vulkan_implicit.cpp); downscaling: classical bicubic, as the CPU.
  void render_implicit(const PlaneAnalysis& analysis, const PlaneJob& job) {
    if (VulkanImplicit::renders_classical(job)) return render_classical(job);
    const std::size_t out_bytes = plane_bytes(job.out.size(), job.in.channels);
    ensure_buffer(output_, o_.ctx, out_bytes, Buffer::Kind::Device);
    ensure_buffer(staging_out_, o_.ctx, out_bytes, Buffer::Kind::Download);
    implicit_->prepare_render(analysis, job, output_->handle());
    submit("implicit render", [&](VkCommandBuffer cmd) {
      implicit_->record_render(cmd);
      record_download(cmd, out_bytes);
    });
    unpack(job.out);
  }

  void render_lerf(const PlaneAnalysis& analysis, const PlaneJob& job) {
    auto* a = dynamic_cast<const VulkanLerfAnalysis*>(&analysis);
    if (!a || !a->buffers) throw Error("analysis was not made by this Vulkan backend");
    const auto& out = job.out;
    const std::size_t out_bytes = plane_bytes(out.size(), job.in.channels);
    ensure_buffer(output_, o_.ctx, out_bytes, Buffer::Kind::Device);
    ensure_buffer(staging_out_, o_.ctx, out_bytes, Buffer::Kind::Download);
    const int axis_entries = job.map.is_separable() ? out.width + out.height : 1;
    AxisEntry* table = axis_table(axis_entries);
    RenderParams p = plan_lerf(setup_.method == Method::LerfG, a->outputs, job, table, 0);
    bind(kRender, {{0, a->buffers->filtered->handle()},
                   {1, a->buffers->hyper->handle()},
                   {2, output_->handle()},
                   {3, axis_->handle()}});
    submit("LeRF render", [&](VkCommandBuffer cmd) {
      record_axis_upload(cmd, axis_entries);
      dispatch(cmd, kRender, p, (out_bytes + 3) / 4);
      record_download(cmd, out_bytes);
    });
    unpack(out);
  }

  // The bins whose sums the render needs: b0 and b1 of a rescale's one scale position; for a
  // warp, every bin between those of the smallest and largest local scale. A homography's
  // Jacobian determinant is det(H) / w^3 with w affine in (x, y), so the local scale is
  // monotonic in w and its extremes over the output lie at the corners (pixels with w <= 0 are
  // invalid; scales near w = 0 tend to 0: the first bin). A margin covers the shader's float
  // evaluation, which also clamps its bins to the stored range.
  std::pair<int, int> imlut_bin_range(const ImLutModel& m, const PlaneJob& job, float& t_sep) const {
    const int S = m.scale_bins;
    auto bins_of = [&](float lo, float hi) {
      const int b_lo = imlut::imlut_bin_low(lo, S);
      const int b_hi = std::min(imlut::imlut_bin_low(hi, S) + 1, S - 1);
      return std::pair<int, int>{b_lo, std::max(b_lo, b_hi)};
    };
    t_sep = 0.0f;
    if (job.map.is_separable()) {
      t_sep = imlut_scale_position(m, cpu::imlut_local_scale(job.map, 0, 0));
      return bins_of(t_sep, t_sep);
    }
    float lo = 3.4e38f, hi = -3.4e38f;
    const int xs[2] = {0, job.out.width - 1}, ys[2] = {0, job.out.height - 1};
    const auto& h = job.map.out_to_in.m;
    for (int y : ys)
      for (int x : xs) {
        const double w = h[6] * x + h[7] * y + h[8];
        const float t = w > 0 ? imlut_scale_position(m, cpu::imlut_local_scale(job.map, x, y)) : 0.0f;
        lo = std::min(lo, t);
        hi = std::max(hi, t);
      }
    constexpr float kMargin = 1e-3f;
    return bins_of(std::max(lo - kMargin, 0.0f), std::min(hi + kMargin, static_cast<float>(S - 1)));
  }

  // IM-LUT: the K components rendered by their own shaders (the classical passes on the
  // analysis's copy of the input, lerf-g's render on its stage-1 image) and copied side by side
  // into comps_; the sums of the bins in use (imlut_sums.comp); the mix (imlut_mix.comp). One
  // submission.
  void render_imlut(const PlaneAnalysis& analysis, const PlaneJob& job) {
    auto* a = dynamic_cast<const VulkanLerfAnalysis*>(&analysis);
    if (!a || !a->buffers || !a->buffers->source) throw Error("analysis was not made by this Vulkan backend");
    const ImLutModel& m = setup_.model->imlut;
    const int K = static_cast<int>(m.components.size());
    const auto& in = job.in;
    const auto& out = job.out;
    const int ch = in.channels;
    const std::size_t out_bytes = plane_bytes(out.size(), ch), comp_stride = words(out_bytes);
    const bool separable = job.map.is_separable();
    ensure_buffer(output_, o_.ctx, out_bytes, Buffer::Kind::Device);
    ensure_buffer(staging_out_, o_.ctx, out_bytes, Buffer::Kind::Download);
    ensure_buffer(comps_, o_.ctx, comp_stride * K, Buffer::Kind::Device);

    float t_sep = 0.0f;
    auto [bin_lo, bin_hi] = imlut_bin_range(m, job, t_sep);
    const int ncols = (bin_hi - bin_lo + 1) * K, pairs = (ncols + 1) / 2;
    const std::size_t in_samples = plane_bytes(in.size(), ch);
    ensure_buffer(sums_, o_.ctx, in_samples * pairs * 4, Buffer::Kind::Device);

    // Axis tables: one per component, then the mix's (separable maps only).
    const int per = out.width + out.height;
    const int entries = separable ? per * (K + 1) : 1;
    AxisEntry* table = axis_table(entries);
    std::vector<ClassicalPlan> classical(K);
    std::vector<RenderParams> lerf(K);
    const VkBuffer source = a->buffers->source->handle();
    bool any_classical = false;
    for (int k = 0; k < K; ++k) {
      if (m.components[k] == Method::LerfG) {
        if (!a->buffers->filtered) throw Error("im-lut analysis lacks the lerf-g component's stages");
        lerf[k] = plan_lerf(true, a->outputs, job, table, k * per);
      } else {
        classical[k] = plan_classical(kernels::classical_kernel(m.components[k], setup_.cubic_a), job, table, k * per);
        any_classical = true;
      }
    }
    if (any_classical) bind_classical(job, source);
    if (a->buffers->filtered)
      bind(kRender, {{0, a->buffers->filtered->handle()},
                     {1, a->buffers->hyper->handle()},
                     {2, output_->handle()},
                     {3, axis_->handle()}});
    if (separable) {
      // The mix's neighbours, weights and border decisions, in double as the CPU's render.
      auto fill = [](AxisEntry* t, int in_len, int out_len, double a, double b) {
        for (int o = 0; o < out_len; ++o) {
          const double x = a * o + b;
          const float fx = static_cast<float>(cpu::safe_coordinate(x, in_len));
          t[o] = {imlut::imlut_left(fx, in_len), imlut::imlut_frac(fx, in_len), x >= -0.5 && x <= in_len - 0.5};
        }
      };
      const auto& h = job.map.out_to_in.m;
      fill(table + K * per, in.width, out.width, h[0], h[2]);
      fill(table + K * per + out.width, in.height, out.height, h[4], h[5]);
    }

    ImLutSumsParams sp{in.width, in.height, ch, m.columns(), bin_lo * K, ncols, pairs,
                       static_cast<std::int32_t>(in_samples * pairs)};
    ImLutMixParams mp{};
    mp.in_w = in.width;
    mp.in_h = in.height;
    mp.ch = ch;
    mp.out_w = out.width;
    mp.out_h = out.height;
    mp.K = K;
    mp.separable = separable;
    mp.border = border_code(job.border);
    mp.border_value = pack_border(job);
    mp.out_bytes = static_cast<std::int32_t>(out_bytes);
    mp.comp_stride = static_cast<std::int32_t>(comp_stride);
    mp.stride = 2 * pairs;
    mp.bin_lo = bin_lo;
    mp.bin_hi = bin_hi;
    mp.bins = m.scale_bins;
    mp.affine = m.affine;
    mp.axis_off = K * per;
    mp.t = t_sep;
    mp.scale_first = m.scale_first;
    mp.scale_step = m.scale_step;
    copy_matrix(job.map.out_to_in, mp.m);
    bind(kImLutSums, {{0, source}, {2, sums_->handle()}, {3, imlut_lut_->handle()}});
    bind(kImLutMix, {{0, sums_->handle()}, {1, comps_->handle()}, {2, output_->handle()}, {3, axis_->handle()}});

    submit("IM-LUT render", [&](VkCommandBuffer cmd) {
      if (separable) record_axis_upload(cmd, entries);
      for (int k = 0; k < K; ++k) {
        if (m.components[k] == Method::LerfG) dispatch(cmd, kRender, lerf[k], (out_bytes + 3) / 4);
        else record_classical(cmd, classical[k]);
        // output_ -> component plane k; the next component's shaders overwrite output_ after the copy.
        barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                VK_ACCESS_TRANSFER_READ_BIT);
        VkBufferCopy r{0, comp_stride * k, comp_stride};
        vkCmdCopyBuffer(cmd, output_->handle(), comps_->handle(), 1, &r);
        barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT,
                VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
      }
      dispatch(cmd, kImLutSums, sp, static_cast<std::size_t>(sp.words));
      barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
              VK_ACCESS_SHADER_READ_BIT);
      dispatch(cmd, kImLutMix, mp, (out_bytes + 3) / 4);
      record_download(cmd, out_bytes);
    });
    unpack(out);
  }

  // Repacks the rows of `in` tightly into the upload staging buffer.
  void upload(ConstPlaneView in) {
    const std::size_t row = static_cast<std::size_t>(in.width) * in.channels;
    ensure_buffer(input_, o_.ctx, row * in.height, Buffer::Kind::Device);
    if (device_io()) return;  // copied from the image / buffer in record_upload
    ensure_buffer(staging_in_, o_.ctx, row * in.height, Buffer::Kind::Upload);
    std::uint8_t* dst = staging_in_->mapped();
    if (static_cast<std::size_t>(in.stride) == row) std::memcpy(dst, in.data, row * in.height);
    else
      for (int y = 0; y < in.height; ++y) std::memcpy(dst + row * y, in.row(y), row);
  }

  void unpack(PlaneView out) {
    if (device_io()) return;  // copied to the image / buffer in record_download
    const std::size_t row = static_cast<std::size_t>(out.width) * out.channels;
    const std::uint8_t* src = staging_out_->mapped();
    if (static_cast<std::size_t>(out.stride) == row) std::memcpy(out.data, src, row * out.height);
    else
      for (int y = 0; y < out.height; ++y) std::memcpy(out.row(y), src + row * y, row);
  }

  // The host side of the per-axis table (written before recording the submission).
  AxisEntry* axis_table(int entries) {
    ensure_buffer(staging_axis_, o_.ctx, entries * sizeof(AxisEntry), Buffer::Kind::Upload);
    ensure_buffer(axis_, o_.ctx, entries * sizeof(AxisEntry), Buffer::Kind::Device);
    return reinterpret_cast<AxisEntry*>(staging_axis_->mapped());
  }

  void record_axis_upload(VkCommandBuffer cmd, int entries) {
    VkBufferCopy r{0, 0, entries * sizeof(AxisEntry)};
    vkCmdCopyBuffer(cmd, staging_axis_->handle(), axis_->handle(), 1, &r);
    barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
            VK_ACCESS_SHADER_READ_BIT);
  }

  static VkDeviceSize words(std::size_t bytes) { return (bytes + 3) & ~std::size_t{3}; }

  void record_upload(VkCommandBuffer cmd, std::size_t bytes) {
    if (buffer_job_) {
      barrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
              VK_ACCESS_TRANSFER_READ_BIT);
      auto regions = row_regions(buffer_job_->in, false);
      vkCmdCopyBuffer(cmd, buffer_job_->in.buffer, input_->handle(), static_cast<std::uint32_t>(regions.size()),
                      regions.data());
      barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
              VK_ACCESS_SHADER_READ_BIT);
      return;
    }
    if (image_job_) {
      const DeviceImage& im = image_job_->in;
      // Whatever wrote the image before (earlier submissions on this queue, or on another
      // queue and waited for by the caller) is made visible to the copy.
      image_barrier(cmd, im.image, in_layout_, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                    VK_ACCESS_MEMORY_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
      in_layout_ = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
      VkBufferImageCopy r = image_region(im);
      vkCmdCopyImageToBuffer(cmd, im.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, input_->handle(), 1, &r);
      barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
              VK_ACCESS_SHADER_READ_BIT);
      return;
    }
    VkBufferCopy r{0, 0, words(bytes)};
    vkCmdCopyBuffer(cmd, staging_in_->handle(), input_->handle(), 1, &r);
    barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
            VK_ACCESS_SHADER_READ_BIT);
  }

  void record_download(VkCommandBuffer cmd, std::size_t bytes) {
    barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_TRANSFER_READ_BIT);
    if (buffer_job_) {
      // After every earlier use of the output buffer on this queue.
      barrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
              VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
      auto regions = row_regions(buffer_job_->out, true);
      vkCmdCopyBuffer(cmd, output_->handle(), buffer_job_->out.buffer, static_cast<std::uint32_t>(regions.size()),
                      regions.data());
      // Visible to later device work and to the host (a host-visible buffer may be mapped next).
      barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
              VK_PIPELINE_STAGE_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_HOST_BIT,
              VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT | VK_ACCESS_HOST_READ_BIT);
      return;
    }
    if (image_job_) {
      const ImageJob& j = *image_job_;
      // The whole output is overwritten: its old content is discarded (UNDEFINED), after
      // every earlier use of the image on this queue.
      image_barrier(cmd, j.out.image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                    VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
                    VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
      VkBufferImageCopy r = image_region(j.out);
      vkCmdCopyBufferToImage(cmd, output_->handle(), j.out.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &r);
      image_barrier(cmd, j.out.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, j.final_layout,
                    VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                    VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
      if (in_layout_ != j.final_layout) {
        image_barrier(cmd, j.in.image, in_layout_, j.final_layout, VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_ACCESS_TRANSFER_READ_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                      VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
        in_layout_ = j.final_layout;
      }
      return;
    }
    VkBufferCopy r{0, 0, words(bytes)};
    vkCmdCopyBuffer(cmd, output_->handle(), staging_out_->handle(), 1, &r);
    barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
            VK_ACCESS_HOST_READ_BIT);
  }

  static VkBufferImageCopy image_region(const DeviceImage& im) {
    VkBufferImageCopy r{};
    r.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    r.imageExtent = {static_cast<std::uint32_t>(im.width), static_cast<std::uint32_t>(im.height), 1};
    return r;  // buffer offset 0, rows tightly packed
  }

  static void image_barrier(VkCommandBuffer cmd, VkImage image, VkImageLayout from, VkImageLayout to,
                            VkPipelineStageFlags src_stage, VkAccessFlags src, VkPipelineStageFlags dst_stage,
                            VkAccessFlags dst) {
    VkImageMemoryBarrier b{};
    b.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER;
    b.srcAccessMask = src;
    b.dstAccessMask = dst;
    b.oldLayout = from;
    b.newLayout = to;
    b.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    b.image = image;
    b.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, nullptr, 0, nullptr, 1, &b);
  }

  static void barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stage, VkAccessFlags src,
                      VkPipelineStageFlags dst_stage, VkAccessFlags dst) {
    VkMemoryBarrier b{};
    b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    b.srcAccessMask = src;
    b.dstAccessMask = dst;
    vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &b, 0, nullptr, 0, nullptr);
  }

  // Points the descriptor set of `slot` at the given (binding, buffer) pairs. Safe because
  // every submission is waited for before the next is recorded.
  void bind(Slot slot, std::initializer_list<std::pair<std::uint32_t, VkBuffer>> buffers) {
    std::array<VkDescriptorBufferInfo, kBindings> info{};
    std::array<VkWriteDescriptorSet, kBindings> w{};
    std::uint32_t n = 0;
    for (auto [binding, buffer] : buffers) {
      info[n] = {buffer, 0, VK_WHOLE_SIZE};
      w[n].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
      w[n].dstSet = o_.sets[slot];
      w[n].dstBinding = binding;
      w[n].descriptorCount = 1;
      w[n].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      w[n].pBufferInfo = &info[n];
      ++n;
    }
    vkUpdateDescriptorSets(o_.ctx->device(), n, w.data(), 0, nullptr);
  }

  // One invocation per item, 1-D; the shaders loop when the group count is capped.
  template <typename Params>
  void dispatch(VkCommandBuffer cmd, Slot slot, const Params& params, std::size_t items) {
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, o_.pipelines[slot]);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, o_.layout, 0, 1, &o_.sets[slot], 0, nullptr);
    vkCmdPushConstants(cmd, o_.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(Params), &params);
    std::size_t groups = (items + LERF_VK_GROUP_SIZE - 1) / LERF_VK_GROUP_SIZE;
    groups = std::clamp<std::size_t>(groups, 1, std::min<std::uint32_t>(o_.ctx->max_groups_x(), 65535));
    vkCmdDispatch(cmd, static_cast<std::uint32_t>(groups), 1, 1);
  }

  // Records with `record`, submits, waits. A lost device makes this and every later call throw.
  template <typename Record>
  void submit(const char* what, Record&& record) {
    if (lost_) throw Error("Vulkan: device " + o_.ctx->name() + " was lost; recreate the engine");
    if (lose_after_ >= 0 && submits_ >= lose_after_) {
      lost_ = true;
      throw Error(std::string("Vulkan: device lost during ") + what + " on " + o_.ctx->name() +
                  " (simulated by LERF_VK_TEST_LOSE_DEVICE_AFTER)");
    }
    ++submits_;
    VkDevice d = o_.ctx->device();
    check(vkResetCommandBuffer(o_.cmd, 0), "vkResetCommandBuffer");
    VkCommandBufferBeginInfo begin{};
    begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(o_.cmd, &begin), "vkBeginCommandBuffer");
    record(o_.cmd);
    check(vkEndCommandBuffer(o_.cmd), "vkEndCommandBuffer");
    check(vkResetFences(d, 1, &o_.fence), "vkResetFences");
    VkSubmitInfo si{};
    si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    si.commandBufferCount = 1;
    si.pCommandBuffers = &o_.cmd;
    VkResult r = o_.ctx->submit(si, o_.fence);
    if (r == VK_SUCCESS) r = vkWaitForFences(d, 1, &o_.fence, VK_TRUE, UINT64_MAX);
    if (r == VK_ERROR_DEVICE_LOST) {
      lost_ = true;
      throw Error(std::string("Vulkan: device lost during ") + what + " on " + o_.ctx->name());
    }
    check(r, what);
  }

  MethodSetup setup_;
  kernels::Classical kernel_;
  Objects o_;
  std::unique_ptr<Buffer> staging_in_, staging_out_, staging_axis_, input_, tmp_, output_, axis_, lut1_, lut2_;
  std::unique_ptr<Buffer> imlut_lut_, comps_, sums_;  // im-lut: mixing tables, component planes, logit sums
  std::shared_ptr<Recycler> recycler_ = std::make_shared<Recycler>();
  std::unique_ptr<VulkanImplicit> implicit_;  // liif, a-liif, lmf
  std::mutex mutex_;
  bool lost_ = false;
  long lose_after_ = lose_device_after();
  long submits_ = 0;
  const ImageJob* image_job_ = nullptr;    // set during render_image: planes are device images
  const BufferJob* buffer_job_ = nullptr;  // set during render_buffer: planes are device buffers
  VkImageLayout in_layout_ = VK_IMAGE_LAYOUT_UNDEFINED;  // the input image's layout while image_job_
};

}  // namespace

void download_lerf_analysis(Backend& backend, const PlaneAnalysis& analysis, std::vector<std::uint8_t>& filtered,
                            std::vector<std::uint8_t>& hyper) {
  auto* vb = dynamic_cast<VulkanBackend*>(&backend);
  if (!vb) throw Error("not a Vulkan backend");
  vb->download_analysis(analysis, filtered, hyper);
}

}  // namespace vk

std::unique_ptr<Backend> make_vulkan_backend(const MethodSetup& setup, int device_index) {
  return std::make_unique<vk::VulkanBackend>(setup, device_index);
}

std::unique_ptr<vk::DeviceBackend> vk::make_vulkan_backend(const MethodSetup& setup, const ExternalDevice& device) {
  return std::make_unique<vk::VulkanBackend>(setup, device);
}

}  // namespace lerf
