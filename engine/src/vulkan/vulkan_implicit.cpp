// The implicit methods on Vulkan (docs/IMPLICIT.md, docs/VULKAN.md "Implicit methods").
//
// Analysis, per channel, in one command buffer: the encoder's convolutions
// (implicit_conv.comp, one item per output value, ReLU / residual adds fused) over float HWC
// planes in a scratch buffer (h, b, t), then the per-pixel field the decoders read, as the CPU
// fast path computes it: LIIF / A-LIIF the query-independent part of the first layer(s)
// (W_U U(p) + b: a 3x3 convolution of F with the unfold columns of the weights), LMF the
// whole latent MLP (3x3 convolution + ReLU into a band of rows, then the per-pixel linear
// layer). Render: implicit_render.comp, one item per output uint.
#include "vulkan_implicit.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "lerf/error.hpp"
#include "lerf/implicit.hpp"
#include "lerf/model.hpp"
#include "lerf_spirv.hpp"

namespace lerf::vk {

namespace shared {
#define LERF_FN constexpr
#define LERF_CONST inline constexpr
#include "lerf/shared/vulkan_layout.inc"
#undef LERF_CONST
#undef LERF_FN
}  // namespace shared

namespace {

constexpr std::uint32_t kBindings = 5;
constexpr std::uint32_t kPushBytes = 128;

// Push constants, laid out as the shaders' Params blocks.
struct ConvParams {
  std::int32_t W, H, cin, cout;
  std::int32_t y0, rows, taps, mode;
  std::int32_t from_bytes, ch, channel, to_field;
  std::uint32_t in_off, in_y0, in_stride;
  std::uint32_t out_off, out_y0, out_stride, out_col;
  std::uint32_t w_off, w_row, b_off;
};
struct RenderParams {
  std::int32_t in_w, in_h, ch, out_w;
  std::int32_t out_h, method, separable, border;
  std::uint32_t border_value;
  std::int32_t out_bytes;
  std::uint32_t dec_off;
  std::int32_t pdim;
  std::int32_t hd, K, B, L;
  float cx, cy;
  float m[9];
  float cubic_a;  // the classical bicubic of minified warp pixels
};
static_assert(sizeof(ConvParams) <= kPushBytes && sizeof(RenderParams) <= kPushBytes);

enum ConvMode : std::int32_t { kSet = 0, kSetRelu = 1, kAdd = 2 };

// Test hook: LERF_VK_TEST_IMPLICIT_BAND_ROWS=N caps LMF's latent bands at N rows (exercises the
// banding on tiny planes); 0 when unset.
int band_rows_override() {
  const char* v = std::getenv("LERF_VK_TEST_IMPLICIT_BAND_ROWS");
  if (!v || !*v) return 0;
  return std::max(0, std::atoi(v));
}

float clip_cell(double c) { return static_cast<float>(std::isfinite(c) ? std::clamp(c, 0.25, 1.0) : 1.0); }

void barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stage, VkAccessFlags src, VkPipelineStageFlags dst_stage,
             VkAccessFlags dst) {
  VkMemoryBarrier b{};
  b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  b.srcAccessMask = src;
  b.dstAccessMask = dst;
  vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &b, 0, nullptr, 0, nullptr);
}

void compute_barrier(VkCommandBuffer cmd) {
  barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT,
          VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
}

struct AnalysisBuffers {
  std::unique_ptr<Buffer> source, field;
};

// A free list of analysis buffers (per-frame analyses reuse their memory).
class Pool {
 public:
  std::unique_ptr<AnalysisBuffers> take(VkDeviceSize source, VkDeviceSize field) {
    std::lock_guard lock(mutex_);
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if ((*it)->source->size() >= source && (*it)->field->size() >= field) {
        auto b = std::move(*it);
        free_.erase(it);
        return b;
      }
    return nullptr;
  }
  void give(std::unique_ptr<AnalysisBuffers> b) {
    if (!b) return;
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(b));
    if (free_.size() > 2) free_.erase(free_.begin());
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<AnalysisBuffers>> free_;
};

struct ImplicitAnalysisVk final : PlaneAnalysis {
  std::unique_ptr<AnalysisBuffers> buffers;
  std::weak_ptr<Pool> pool;
  const void* owner = nullptr;
  ~ImplicitAnalysisVk() override {
    if (auto p = pool.lock()) p->give(std::move(buffers));
  }
};

}  // namespace

struct VulkanImplicit::Impl {
  std::shared_ptr<Context> ctx;
  Method method;
  const ImplicitModel* m = nullptr;
  std::shared_ptr<const Model> model;  // keeps m alive
  int C = 0, pdim = 0, hd = 0;
  float cubic_a = -0.5f;

  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkDescriptorPool dpool = VK_NULL_HANDLE;
  VkDescriptorSet conv_set = VK_NULL_HANDLE, render_set = VK_NULL_HANDLE;
  VkPipeline conv = VK_NULL_HANDLE, render = VK_NULL_HANDLE;

  std::unique_ptr<Buffer> weights, scratch, axis, axis_staging;
  std::shared_ptr<Pool> pool = std::make_shared<Pool>();

  // Weight offsets (floats) in `weights`.
  struct Layer {
    std::uint32_t w = 0, b = 0;
  };
  Layer head, tail;
  std::vector<Layer> conv1, conv2;
  Layer pre0, pre1;  // liif: layer 0; a-liif: expansion 0, basis 0; lmf: latent 0, latent 1
  std::uint32_t dec_off = 0;

  // The render being prepared.
  RenderParams rp{};
  int axis_entries = 0;
  std::size_t out_words = 0;

  ~Impl() {
    if (!ctx) return;
    VkDevice d = ctx->device();
    if (conv) vkDestroyPipeline(d, conv, nullptr);
    if (render) vkDestroyPipeline(d, render, nullptr);
    if (dpool) vkDestroyDescriptorPool(d, dpool, nullptr);
    if (layout) vkDestroyPipelineLayout(d, layout, nullptr);
    if (set_layout) vkDestroyDescriptorSetLayout(d, set_layout, nullptr);
  }

  void check_limits() const {
    auto limit = [&](const char* what, int v, int max) {
      if (v > max)
        throw Error(std::string(method_name(method)) + " on Vulkan: " + what + " " + std::to_string(v) +
                    " exceeds the shaders' limit of " + std::to_string(max) + " (use the cpu backend)");
    };
    if (method == Method::Liif || method == Method::ALiif) limit("mlp_hidden", m->mlp_hidden, LERF_VK_IMPLICIT_MAX_HIDDEN);
    if (method == Method::ALiif) {
      limit("basis", m->basis, LERF_VK_IMPLICIT_MAX_BASIS);
      limit("basis_hidden", m->basis_hidden, LERF_VK_IMPLICIT_MAX_BASIS_HIDDEN);
    }
    if (method == Method::Lmf) limit("render_hidden", m->render_hidden, LERF_VK_IMPLICIT_MAX_RENDER_HIDDEN);
  }

  void create_pipelines() {
    VkDevice d = ctx->device();
    std::array<VkDescriptorSetLayoutBinding, kBindings> b{};
    for (std::uint32_t i = 0; i < kBindings; ++i)
      b[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo sl{};
    sl.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
    sl.bindingCount = kBindings;
    sl.pBindings = b.data();
    check(vkCreateDescriptorSetLayout(d, &sl, nullptr, &set_layout), "vkCreateDescriptorSetLayout");
    VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes};
    VkPipelineLayoutCreateInfo pl{};
    pl.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
    pl.setLayoutCount = 1;
    pl.pSetLayouts = &set_layout;
    pl.pushConstantRangeCount = 1;
    pl.pPushConstantRanges = &range;
    check(vkCreatePipelineLayout(d, &pl, nullptr, &layout), "vkCreatePipelineLayout");
    VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 * kBindings};
    VkDescriptorPoolCreateInfo dp{};
    dp.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
    dp.maxSets = 2;
    dp.poolSizeCount = 1;
    dp.pPoolSizes = &size;
    check(vkCreateDescriptorPool(d, &dp, nullptr, &dpool), "vkCreateDescriptorPool");
    std::array<VkDescriptorSetLayout, 2> layouts{set_layout, set_layout};
    std::array<VkDescriptorSet, 2> sets{};
    VkDescriptorSetAllocateInfo da{};
    da.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
    da.descriptorPool = dpool;
    da.descriptorSetCount = 2;
    da.pSetLayouts = layouts.data();
    check(vkAllocateDescriptorSets(d, &da, sets.data()), "vkAllocateDescriptorSets");
    conv_set = sets[0];
    render_set = sets[1];
    auto make = [&](std::span<const std::uint32_t> code, VkPipeline& out) {
      out = create_compute_pipeline(d, code, layout);
    };
    make(spirv::implicit_conv, conv);
    make(spirv::implicit_render, render);
  }

  // Every tensor the shaders read, in one float buffer, uploaded once.
  void upload_weights(const Submit& submit) {
    std::vector<float> w;
    auto put = [&](const std::vector<float>& v) {
      const auto off = static_cast<std::uint32_t>(w.size());
      w.insert(w.end(), v.begin(), v.end());
      return off;
    };
    auto layer = [&](const DenseLayer& l) { return Layer{put(l.w), put(l.b)}; };
    const int U = m->unfold_dim();
    // [rel, cell] columns (the last 4 inputs) of rows [0, rows) of a Linear, row by row.
    auto rc_columns = [&](const float* weight, int rows, int in) {
      for (int o = 0; o < rows; ++o)
        for (int i = 0; i < 4; ++i) w.push_back(weight[static_cast<std::size_t>(o) * in + U + i]);
    };
    auto plain = [&](const DenseLayer& l) {
      put(l.w);
      put(l.b);
    };
    if (method == Method::Liif) {
      pre0 = layer(m->mlp[0]);
      dec_off = static_cast<std::uint32_t>(w.size());
      rc_columns(m->mlp[0].w.data(), m->mlp[0].out, m->mlp[0].in);
      for (int l = 1; l < 4; ++l) plain(m->mlp[l]);
    } else if (method == Method::ALiif) {
      pre0 = layer(m->mlp[0]);
      pre1 = layer(m->basis_layers[0]);
      dec_off = static_cast<std::uint32_t>(w.size());
      rc_columns(m->mlp[0].w.data(), m->mlp[0].out, m->mlp[0].in);
      plain(m->mlp[1]);
      plain(m->mlp[2]);
      const DenseLayer& b0 = m->basis_layers[0];
      rc_columns(b0.w.data(), m->basis * m->basis_hidden, b0.in);
      for (int l = 1; l < 4; ++l) plain(m->basis_layers[l]);
    } else {
      pre0 = layer(m->mlp[0]);
      pre1 = layer(m->mlp[1]);
      dec_off = static_cast<std::uint32_t>(w.size());
      for (const auto& r : m->render) plain(r);
    }
    head = layer(m->head);
    for (int i = 0; i < m->blocks; ++i) {
      conv1.push_back(layer(m->conv1[i]));
      conv2.push_back(layer(m->conv2[i]));
    }
    tail = layer(m->tail);
    const std::size_t bytes = w.size() * sizeof(float);
    ensure_buffer(weights, ctx, bytes, Buffer::Kind::Device);
    Buffer staging(ctx, bytes, Buffer::Kind::Upload);
    std::memcpy(staging.mapped(), w.data(), bytes);
    submit("implicit weights upload", [&](VkCommandBuffer cmd) {
      VkBufferCopy r{0, 0, bytes};
      vkCmdCopyBuffer(cmd, staging.handle(), weights->handle(), 1, &r);
    });
  }

  void bind(VkDescriptorSet set, std::initializer_list<std::pair<std::uint32_t, VkBuffer>> buffers) {
    std::array<VkDescriptorBufferInfo, kBindings> info{};
    std::array<VkWriteDescriptorSet, kBindings> wr{};
    std::uint32_t n = 0;
    for (auto [binding, buffer] : buffers) {
      info[n] = {buffer, 0, VK_WHOLE_SIZE};
      wr[n].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
      wr[n].dstSet = set;
      wr[n].dstBinding = binding;
      wr[n].descriptorCount = 1;
      wr[n].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      wr[n].pBufferInfo = &info[n];
      ++n;
    }
    vkUpdateDescriptorSets(ctx->device(), n, wr.data(), 0, nullptr);
  }

  template <typename Params>
  void dispatch(VkCommandBuffer cmd, VkPipeline p, VkDescriptorSet set, const Params& params, std::size_t items) {
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, nullptr);
    vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(Params), &params);
    std::size_t groups = (items + LERF_VK_GROUP_SIZE - 1) / LERF_VK_GROUP_SIZE;
    groups = std::clamp<std::size_t>(groups, 1, std::min<std::uint32_t>(ctx->max_groups_x(), 65535));
    vkCmdDispatch(cmd, static_cast<std::uint32_t>(groups), 1, 1);
  }

  // Rows per LMF latent band and the scratch layout: h at 0, b at P C, t at 2 P C; the latent
  // band's hidden values reuse b and t (free once F is made) when they fit.
  int band_rows(int W, int H) const {
    if (method != Method::Lmf) return H;
    const std::size_t P = static_cast<std::size_t>(W) * H, row = static_cast<std::size_t>(W) * m->latent_hidden;
    const std::size_t room = std::max<std::size_t>(2 * P * C, std::size_t{4} << 20);
    int rows = static_cast<int>(std::clamp<std::size_t>(room / row, 1, static_cast<std::size_t>(H)));
    if (int o = band_rows_override(); o > 0) rows = std::min(rows, o);
    return rows;
  }
  std::size_t scratch_floats(int W, int H) const {
    const std::size_t P = static_cast<std::size_t>(W) * H;
    std::size_t n = 3 * P * C;
    if (method == Method::Lmf)
      n = std::max(n, P * C + static_cast<std::size_t>(band_rows(W, H)) * W * m->latent_hidden);
    return n;
  }
};

VulkanImplicit::VulkanImplicit(std::shared_ptr<Context> ctx, const MethodSetup& setup, const Submit& submit)
    : impl_(std::make_unique<Impl>()) {
  if (!is_implicit(setup.method)) throw Error("not an implicit method");
  if (!setup.model) throw Error(std::string(method_name(setup.method)) + " needs a model");
  Impl& s = *impl_;
  s.ctx = std::move(ctx);
  s.method = setup.method;
  s.model = setup.model;
  s.m = &setup.model->implicit;
  s.cubic_a = setup.cubic_a;
  s.C = s.m->channels;
  if (s.method == Method::Liif) s.pdim = s.m->mlp_hidden, s.hd = s.m->mlp_hidden;
  else if (s.method == Method::ALiif) s.pdim = s.m->mlp_hidden + s.m->basis * s.m->basis_hidden, s.hd = s.m->mlp_hidden;
  else s.pdim = s.m->latent_dim(), s.hd = s.m->render_hidden;
  s.check_limits();
  s.create_pipelines();
  s.upload_weights(submit);
}

VulkanImplicit::~VulkanImplicit() = default;

bool VulkanImplicit::renders_classical(const PlaneJob& job) {
  if (!job.map.is_separable()) return false;
  const Scale s = job.map.separable_scale();
  return s.w < 1 - 1e-9 || s.h < 1 - 1e-9;
}

std::shared_ptr<PlaneAnalysis> VulkanImplicit::make_analysis(ConstPlaneView in) {
  Impl& s = *impl_;
  const std::size_t P = static_cast<std::size_t>(in.width) * in.height;
  const std::size_t source = (P * in.channels + 3) & ~std::size_t{3};
  const std::size_t field = P * in.channels * s.pdim;
  const std::size_t scratch = s.scratch_floats(in.width, in.height);
  if (field >= (std::size_t{1} << 32) || scratch >= (std::size_t{1} << 32))
    throw Error(std::string(method_name(s.method)) + " on Vulkan: a " + std::to_string(in.width) + "x" +
                std::to_string(in.height) + " plane of " + std::to_string(in.channels) +
                " channel(s) needs more than 2^32 floats of features");
  auto a = std::make_shared<ImplicitAnalysisVk>();
  a->input_size = in.size();
  a->channels = in.channels;
  a->pool = s.pool;
  a->owner = this;
  a->buffers = s.pool->take(source, field * sizeof(float));
  if (!a->buffers) {
    a->buffers = std::make_unique<AnalysisBuffers>();
    ensure_buffer(a->buffers->source, s.ctx, source, Buffer::Kind::Device);
    ensure_buffer(a->buffers->field, s.ctx, field * sizeof(float), Buffer::Kind::Device);
  }
  ensure_buffer(s.scratch, s.ctx, scratch * sizeof(float), Buffer::Kind::Device);
  s.bind(s.conv_set, {{0, a->buffers->source->handle()},
                      {1, s.scratch->handle()},
                      {2, a->buffers->field->handle()},
                      {3, s.weights->handle()}});
  return a;
}

void VulkanImplicit::record_analysis(VkCommandBuffer cmd, VkBuffer input, const PlaneAnalysis& analysis) {
  Impl& s = *impl_;
  const auto& a = static_cast<const ImplicitAnalysisVk&>(analysis);
  const int W = a.input_size.width, H = a.input_size.height, C = s.C, ch = a.channels;
  const std::uint32_t P = static_cast<std::uint32_t>(W) * H;
  const std::uint32_t h_off = 0, b_off = P * C, t_off = 2 * P * C;
  // The input bytes into the analysis's own copy (the render's base reads it).
  barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
          VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
          VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
  VkBufferCopy r{0, 0, a.buffers->source->size()};
  r.size = (static_cast<VkDeviceSize>(P) * ch + 3) & ~VkDeviceSize{3};
  vkCmdCopyBuffer(cmd, input, a.buffers->source->handle(), 1, &r);
  barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
          VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);

  auto conv = [&](int cin, int cout, int taps, ConvMode mode, std::uint32_t in_off, std::uint32_t in_stride,
                  std::uint32_t out_off, std::uint32_t out_stride, std::uint32_t out_col, bool to_field,
                  const Impl::Layer& l, std::uint32_t w_row, int channel, bool from_bytes, int y0, int rows,
                  std::uint32_t in_y0, std::uint32_t out_y0) {
    ConvParams p{W,       H,       cin,      cout,    y0,    rows,   taps,       mode,
                 from_bytes, ch,   channel,  to_field, in_off, in_y0, in_stride, out_off,
                 out_y0,  out_stride, out_col, l.w,   w_row, l.b};
    s.dispatch(cmd, s.conv, s.conv_set, p, static_cast<std::size_t>(rows) * W * cout);
    compute_barrier(cmd);
  };
  auto full = [&](int cin, int cout, ConvMode mode, std::uint32_t in_off, std::uint32_t out_off,
                  const Impl::Layer& l) {
    conv(cin, cout, 9, mode, in_off, cin, out_off, cout, 0, false, l, 9 * cin, 0, false, 0, H, 0, 0);
  };
  const std::uint32_t row_q = static_cast<std::uint32_t>(s.m->query_dim());
  for (int c = 0; c < ch; ++c) {
    const std::uint32_t field_off = static_cast<std::uint32_t>(c) * P * s.pdim;
    conv(1, C, 9, kSet, 0, 1, h_off, C, 0, false, s.head, 9, c, true, 0, H, 0, 0);
    // b = h
    barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    VkBufferCopy hb{h_off * sizeof(float), b_off * sizeof(float), static_cast<VkDeviceSize>(P) * C * sizeof(float)};
    vkCmdCopyBuffer(cmd, s.scratch->handle(), s.scratch->handle(), 1, &hb);
    barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    for (int i = 0; i < s.m->blocks; ++i) {
      full(C, C, kSetRelu, b_off, t_off, s.conv1[i]);
      full(C, C, kAdd, t_off, b_off, s.conv2[i]);
    }
    full(C, C, kAdd, b_off, h_off, s.tail);  // F = tail(b) + h, in h
    if (s.method == Method::Liif) {
      conv(C, s.hd, 9, kSet, h_off, C, field_off, s.pdim, 0, true, s.pre0, row_q, 0, false, 0, H, 0, 0);
    } else if (s.method == Method::ALiif) {
      conv(C, s.hd, 9, kSet, h_off, C, field_off, s.pdim, 0, true, s.pre0, row_q, 0, false, 0, H, 0, 0);
      conv(C, s.m->basis * s.m->basis_hidden, 9, kSet, h_off, C, field_off, s.pdim, s.hd, true, s.pre1, row_q, 0,
           false, 0, H, 0, 0);
    } else {
      const int LH = s.m->latent_hidden, band = s.band_rows(W, H);
      const std::uint32_t hid_off = b_off;
      for (int y0 = 0; y0 < H; y0 += band) {
        const int rows = std::min(band, H - y0);
        conv(C, LH, 9, kSetRelu, h_off, C, hid_off, LH, 0, false, s.pre0, static_cast<std::uint32_t>(9 * C), 0, false,
             y0, rows, 0, static_cast<std::uint32_t>(y0));
        conv(LH, s.pdim, 1, kSet, hid_off, LH, field_off, s.pdim, 0, true, s.pre1, static_cast<std::uint32_t>(LH), 0,
             false, y0, rows, static_cast<std::uint32_t>(y0), 0);
      }
    }
  }
}

void VulkanImplicit::prepare_render(const PlaneAnalysis& analysis, const PlaneJob& job, VkBuffer output) {
  Impl& s = *impl_;
  auto* a = dynamic_cast<const ImplicitAnalysisVk*>(&analysis);
  if (!a || !a->buffers || a->owner != this) throw Error("analysis was not made by this Vulkan backend");
  const auto& in = job.in;
  const auto& out = job.out;
  const int ch = in.channels;
  RenderParams& p = s.rp;
  p = {};
  p.in_w = in.width;
  p.in_h = in.height;
  p.ch = ch;
  p.out_w = out.width;
  p.out_h = out.height;
  p.method = s.method == Method::Liif ? LERF_VK_IMPLICIT_LIIF
                                      : (s.method == Method::ALiif ? LERF_VK_IMPLICIT_ALIIF : LERF_VK_IMPLICIT_LMF);
  p.separable = job.map.is_separable();
  p.border = job.border == Border::Constant ? LERF_VK_BORDER_CONSTANT
                                            : (job.border == Border::Reflect ? LERF_VK_BORDER_REFLECT : LERF_VK_BORDER_CLAMP);
  p.border_value = job.border_value[0] | (job.border_value[1] << 8) | (job.border_value[2] << 16) |
                   (static_cast<std::uint32_t>(job.border_value[3]) << 24);
  const std::size_t out_bytes = static_cast<std::size_t>(out.width) * out.height * ch;
  p.out_bytes = static_cast<std::int32_t>(out_bytes);
  p.dec_off = s.dec_off;
  p.pdim = s.pdim;
  p.hd = s.hd;
  p.K = s.m->basis;
  p.B = s.m->basis_hidden;
  p.L = s.m->render_layers;
  for (int i = 0; i < 9; ++i) p.m[i] = static_cast<float>(job.map.out_to_in.m[i]);
  p.cubic_a = s.cubic_a;
  s.out_words = (out_bytes + 3) / 4;
  // Separable maps: the queries per axis in double exactly as the CPU (a * o + b, the border
  // test, the clamp), then float.
  s.axis_entries = p.separable ? out.width + out.height : 1;
  const std::size_t table_bytes = static_cast<std::size_t>(s.axis_entries) * 2 * sizeof(std::uint32_t);
  ensure_buffer(s.axis_staging, s.ctx, table_bytes, Buffer::Kind::Upload);
  ensure_buffer(s.axis, s.ctx, table_bytes, Buffer::Kind::Device);
  auto* t = reinterpret_cast<std::uint32_t*>(s.axis_staging->mapped());
  std::memset(t, 0, table_bytes);
  if (p.separable) {
    const auto& h = job.map.out_to_in.m;
    const Scale sc = job.map.separable_scale();
    p.cx = clip_cell(1.0 / sc.w);
    p.cy = clip_cell(1.0 / sc.h);
    auto fill = [](std::uint32_t* e, int in_len, int out_len, double a, double b) {
      for (int o = 0; o < out_len; ++o) {
        const double x = a * o + b;
        const float q = static_cast<float>(std::clamp(x, -0.5, in_len - 0.5));
        std::memcpy(&e[2 * o], &q, sizeof q);
        e[2 * o + 1] = x >= -0.5 && x <= in_len - 0.5;
      }
    };
    fill(t, in.width, out.width, h[0], h[2]);
    fill(t + 2 * out.width, in.height, out.height, h[4], h[5]);
  }
  s.bind(s.render_set, {{0, a->buffers->source->handle()},
                        {1, s.axis->handle()},
                        {2, a->buffers->field->handle()},
                        {3, s.weights->handle()},
                        {4, output}});
}

void VulkanImplicit::record_render(VkCommandBuffer cmd) {
  Impl& s = *impl_;
  VkBufferCopy r{0, 0, static_cast<VkDeviceSize>(s.axis_entries) * 2 * sizeof(std::uint32_t)};
  vkCmdCopyBuffer(cmd, s.axis_staging->handle(), s.axis->handle(), 1, &r);
  barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
          VK_ACCESS_SHADER_READ_BIT);
  s.dispatch(cmd, s.render, s.render_set, s.rp, s.out_words);
}

}  // namespace lerf::vk
